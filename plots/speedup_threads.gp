# speedup_threads.gp — speedup T1/Tp against the thread count: a panel per
# backend (with its variant and GPU count) that ran a thread sweep, a curve
# per size it swept at 1 and more threads, and the ideal line S = p; bars
# from the IQR (T1/q3 .. T1/q1).
load datadir."/plotinfo.gp"
# one or two panels one above the other, three or four in a 2 x 2 grid
columns = threads_panels > 2 ? 2 : 1
rows = (threads_panels + columns - 1) / columns
if (!exists("width")) width = columns > 1 ? 1700 : 960
if (!exists("height")) height = rows > 1 ? 500 * rows : 600
load plotdir."/common.gp"
set xlabel "threads p"
set ylabel "speedup T1 / Tp"
set logscale xy
set xrange [threads_x_min : threads_x_max]
set yrange [threads_y_min : threads_y_max]
set xtics (); do for [k = 1 : words(threads_x_ticks)] { set xtics add (word(threads_x_labels, k) word(threads_x_ticks, k) + 0) }
set ytics (); do for [k = 1 : words(threads_y_ticks)] { set ytics add (word(threads_y_labels, k) word(threads_y_ticks, k) + 0) }
set key outside right top
f = datadir."/speedup_threads.csv"
unstable = threads_unstable
set multiplot layout rows, columns \
    title "Speedup vs threads (median step time at 1 thread / at p threads)".threads_note
do for [p = 1 : threads_panels] {
    first = value(sprintf("threads_first_%d", p))
    blocks = value(sprintf("threads_curves_%d", p))
    set title value(sprintf("threads_title_%d", p)).value(sprintf("threads_note_%d", p))
    plot x with lines dt 2 lw 1.5 lc rgb "#666666" title "ideal (S = p)", \
         for [i = 0 : blocks - 1] f index (first + i) using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
         @hollow_unstable
    unset label 99
}
unset multiplot
