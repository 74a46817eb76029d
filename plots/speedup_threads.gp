# speedup_threads.gp — speedup T1/Tp against the thread count, per backend
# and variant, with the ideal line S = p; bars from the IQR (T1/q3 .. T1/q1).
load plotdir."/common.gp"
set title "Speedup vs threads (median step time at 1 thread / at p threads)"
set xlabel "threads p"
set ylabel "speedup T1 / Tp"
set logscale xy 2
set xrange [0.8 : threads_max * 1.25]
set key outside right top
f = datadir."/speedup_threads.csv"
plot x with lines dt 2 lw 1.5 lc rgb "#666666" title "ideal (S = p)", \
     for [i = 0 : threads_blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2)
