# step_times.gp — distribution of step times per implementation as box
# plots (box = IQR, line = median, whiskers = 1.5 IQR), warm-up excluded;
# the box of an unstable configuration is left hollow (unfilled).
load plotdir."/common.gp"
set title sprintf("Distribution of step times (B=%d, F=%d), warm-up excluded", box_batch, box_filters).box_note
set ylabel "time per training step (ms)"
set xrange [0.5 : box_blocks + 0.5]
set yrange [box_y_min : box_y_max]
if (box_log) {
    set logscale y
    set ytics ()
    do for [k = 1 : words(box_y_ticks)] { set ytics add (word(box_y_labels, k) word(box_y_ticks, k) + 0) }
}
# an unstable box is hollow, and says so under its label (a thin box shows
# no fill either way)
hollow(k) = value(sprintf("box_unstable_%d", k))
set xtics ()
do for [k = 1 : box_blocks] {
    set xtics add (value(sprintf("box_label_%d", k)).(hollow(k) ? "\n(unstable)" : "") k)
}
set style boxplot outliers pointtype 7
set boxwidth 0.5
set bmargin 6
set key outside right top
f = datadir."/step_times.csv"
unstable = box_unstable
plot for [i = 0 : box_blocks - 1] f index i using (i + 1):2 with boxplot lt (i % 10 + 1) \
         fs transparent solid (hollow(i + 1) ? 0 : 0.35) border -1 notitle, \
     keyentry with boxes fs empty border -1 lc rgb "#000000" title (unstable ? "hollow box: unstable" : ""), \
     @unstable_why
