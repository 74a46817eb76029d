# learning.gp — batch loss per step and test accuracy at each evaluation,
# all implementations overlaid (they should coincide: same math, same start).
if (!exists("width")) width = 1200
load plotdir."/common.gp"
set key top right box opaque
set xlabel "training step"
# a short run gets a step of room on the right, so its last point is not on
# the border, and whole-step ticks
set xrange [0 : learning_steps + (learning_steps < 20 ? 1 : 0)]
if (learning_steps < 20) set xtics 1
size = sprintf("B=%d, F=%d, %d step%s", learning_batch, learning_filters, learning_steps, learning_steps == 1 ? "" : "s").learning_note
if (accuracy_blocks > 0) {
    set multiplot layout 1, 2 title "Learning (".size.")"
    set title "Batch loss"
} else {
    set title "Batch loss (".size.")"
}
set ylabel "cross-entropy loss of the step's batch (nats)"
set yrange [loss_y_min : loss_y_max]
# a run of one step has one loss per curve: a line would draw nothing, so
# that case (only) gets markers
plot for [i = 0 : loss_blocks - 1] datadir."/loss.csv" index i using 1:2 with linespoints lt (i % 10 + 1) lw 1.2 ps (loss_points < 2 ? marker_size : 0) title columnheader(2)
if (accuracy_blocks > 0) {
    unset label 99
    set title "Test accuracy"
    set ylabel "test-set accuracy (%)"
    set yrange [accuracy_y_min : accuracy_y_max]
    set key bottom right box opaque
    plot for [i = 0 : accuracy_blocks - 1] datadir."/accuracy.csv" index i using 1:2 with linespoints lt (i % 10 + 1) title columnheader(2)
    unset multiplot
}
