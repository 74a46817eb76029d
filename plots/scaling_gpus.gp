# scaling_gpus.gp — data-parallel throughput: images/s against the number of
# GPUs (cnnbench --gpus N), one curve per backend, variant and batch size,
# each with its ideal N x (images/s on one GPU) dashed in the same colour;
# bars from the IQR of the step time (B/q3 .. B/q1).
load plotdir."/common.gp"
set title sprintf("Throughput vs GPUs (data-parallel through NCCL, F=%d; dashed: ideal)", gpus_filters)
set xlabel "GPUs N"
set ylabel "images / s"
set logscale xy 2
set xrange [0.8 : gpus_max * 1.25]
set key outside right top
f = datadir."/scaling_gpus.csv"
plot for [i = 0 : gpus_blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     for [i = 0 : gpus_blocks - 1] f index i using 1:5 with lines dt 2 lw 1.5 lt (i % 10 + 1) notitle
