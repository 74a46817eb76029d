# speedup_batch.gp — speedup over seq against the batch size, one curve per
# implementation, at one filter count.
load plotdir."/common.gp"
set title sprintf("Speedup over seq vs batch size (%d filters; median step times)", batch_fixed)
set xlabel "batch size B (images per step)"
set ylabel "speedup vs seq (seq median / median)"
set logscale x 2
set logscale y
set key outside right top
f = datadir."/speedup_batch.csv"
plot 1 with lines dt 2 lw 1.5 lc rgb "#666666" title "seq (1x)", \
     for [i = 0 : batch_blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2)
