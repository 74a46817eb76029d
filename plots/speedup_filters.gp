# speedup_filters.gp — speedup over seq against the number of conv filters,
# one curve per implementation, at one batch size.
load plotdir."/common.gp"
set title sprintf("Speedup over seq vs filters (batch %d; median step times)", filters_fixed).filters_note
set xlabel "conv filters F"
set ylabel "speedup vs seq (seq median / median)"
set logscale xy
set xrange [filters_x_min : filters_x_max]
set yrange [filters_y_min : filters_y_max]
set xtics (); do for [k = 1 : words(filters_x_ticks)] { set xtics add (word(filters_x_labels, k) word(filters_x_ticks, k) + 0) }
set ytics (); do for [k = 1 : words(filters_y_ticks)] { set ytics add (word(filters_y_labels, k) word(filters_y_ticks, k) + 0) }
set key outside right top
f = datadir."/speedup_filters.csv"
blocks = filters_blocks
unstable = filters_unstable
plot 1 with lines dt 2 lw 1.5 lc rgb "#666666" title "seq (1x)", \
     for [i = 0 : blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     @hollow_unstable
