# learning.gp — batch loss per step and test accuracy at each evaluation,
# all implementations overlaid (they should coincide: same math, same start).
if (!exists("width")) width = 1200
load plotdir."/common.gp"
set key top right box opaque
set xlabel "training step"
if (accuracy_blocks > 0) {
    set multiplot layout 1, 2 title sprintf("Learning (B=%d, F=%d, %d steps)", learning_batch, learning_filters, learning_steps)
}
set title "Batch loss"
set ylabel "cross-entropy loss of the step's batch (nats)"
plot for [i = 0 : loss_blocks - 1] datadir."/loss.csv" index i using 1:2 with lines lt (i % 10 + 1) lw 1.2 title columnheader(2)
if (accuracy_blocks > 0) {
    unset label 99
    set title "Test accuracy"
    set ylabel "test-set accuracy (%)"
    set key bottom right box opaque
    plot for [i = 0 : accuracy_blocks - 1] datadir."/accuracy.csv" index i using 1:2 with linespoints lt (i % 10 + 1) title columnheader(2)
    unset multiplot
}
