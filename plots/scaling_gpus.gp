# scaling_gpus.gp — data-parallel throughput: images/s against the number of
# GPUs (cnnbench --gpus N), one curve per backend, variant and batch size,
# each with its ideal N x (images/s on one GPU) dashed in the same colour;
# bars from the IQR of the step time (B/q3 .. B/q1).
load plotdir."/common.gp"
set title sprintf("Throughput vs GPUs (data-parallel through NCCL, F=%d; dashed: ideal)", gpus_filters).gpus_note
set xlabel "GPUs N"
set ylabel "images / s"
set logscale xy
set xrange [gpus_x_min : gpus_x_max]
set yrange [gpus_y_min : gpus_y_max]
set xtics (); do for [k = 1 : words(gpus_x_ticks)] { set xtics add (word(gpus_x_labels, k) word(gpus_x_ticks, k) + 0) }
set ytics (); do for [k = 1 : words(gpus_y_ticks)] { set ytics add (word(gpus_y_labels, k) word(gpus_y_ticks, k) + 0) }
set key outside right top
f = datadir."/scaling_gpus.csv"
blocks = gpus_blocks
unstable = gpus_unstable
plot for [i = 0 : blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     for [i = 0 : blocks - 1] f index i using 1:5 with lines dt 2 lw 1.5 lt (i % 10 + 1) notitle, \
     @hollow_unstable
