# scaling_ranks.gp — data-parallel throughput over MPI ranks (cnnbench sweep
# --ranks): images/s against the number of ranks, one curve per backend,
# thread count and batch size, each with its ideal N x (images/s at 1 rank)
# dashed in the same colour; bars from the IQR of the step time (B/q3 ..
# B/q1). render.sh sets mode ('strong' or 'weak'): strong keeps the global
# batch B fixed and adds one process with more threads over the same axis,
# weak keeps b images per rank.
load plotdir."/common.gp"
p = "ranks_".mode
if (mode eq "weak") {
    what = "weak scaling: b images per rank, B = N x b"
} else {
    what = "strong scaling: B fixed, each rank a B/N share"
}
# two lines: the key on the right leaves the plot too narrow for one
set title sprintf("Throughput vs MPI ranks\n(%s; dashed: ideal)", what).value(p."_note")
set xlabel (mode eq "weak" ? "ranks N" : "ranks N (threads T for one process)")
set ylabel "images / s"
set logscale xy
set xrange [value(p."_x_min") : value(p."_x_max")]
set yrange [value(p."_y_min") : value(p."_y_max")]
xt = value(p."_x_ticks"); xl = value(p."_x_labels")
yt = value(p."_y_ticks"); yl = value(p."_y_labels")
set xtics (); do for [k = 1 : words(xt)] { set xtics add (word(xl, k) word(xt, k) + 0) }
set ytics (); do for [k = 1 : words(yt)] { set ytics add (word(yl, k) word(yt, k) + 0) }
set key outside right top
f = datadir."/scaling_ranks_".mode.".csv"
blocks = value(p."_blocks")
unstable = value(p."_unstable")
plot for [i = 0 : blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     for [i = 0 : blocks - 1] f index i using 1:5 with lines dt 2 lw 1.5 lt (i % 10 + 1) notitle, \
     @hollow_unstable
