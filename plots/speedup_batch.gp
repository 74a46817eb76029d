# speedup_batch.gp — speedup over seq against the batch size, one curve per
# implementation, at one filter count.
load plotdir."/common.gp"
set title sprintf("Speedup over seq vs batch size (%d filters; median step times)", batch_fixed).batch_note
set xlabel "batch size B (images per step)"
set ylabel "speedup vs seq (seq median / median)"
set logscale xy
set xrange [batch_x_min : batch_x_max]
set yrange [batch_y_min : batch_y_max]
set xtics (); do for [k = 1 : words(batch_x_ticks)] { set xtics add (word(batch_x_labels, k) word(batch_x_ticks, k) + 0) }
set ytics (); do for [k = 1 : words(batch_y_ticks)] { set ytics add (word(batch_y_labels, k) word(batch_y_ticks, k) + 0) }
set key outside right top
f = datadir."/speedup_batch.csv"
blocks = batch_blocks
unstable = batch_unstable
plot 1 with lines dt 2 lw 1.5 lc rgb "#666666" title "seq (1x)", \
     for [i = 0 : blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     @hollow_unstable
