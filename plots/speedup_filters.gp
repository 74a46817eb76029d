# speedup_filters.gp — speedup over seq against the number of conv filters,
# one curve per implementation, at one batch size.
load plotdir."/common.gp"
set title sprintf("Speedup over seq vs filters (batch %d; median step times)", filters_fixed)
set xlabel "conv filters F"
set ylabel "speedup vs seq (seq median / median)"
set logscale x 2
set logscale y
set key outside right top
f = datadir."/speedup_filters.csv"
plot 1 with lines dt 2 lw 1.5 lc rgb "#666666" title "seq (1x)", \
     for [i = 0 : filters_blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2)
