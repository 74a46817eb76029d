# step_times.gp — distribution of step times per implementation as box
# plots (box = IQR, line = median, whiskers = 1.5 IQR), warm-up excluded.
load plotdir."/common.gp"
set title sprintf("Distribution of step times (B=%d, F=%d), warm-up excluded", box_batch, box_filters)
set ylabel "time per training step (ms)"
if (box_ymax / box_ymin > 30) set logscale y
set xrange [0.5 : box_blocks + 0.5]
set yrange [box_ymin : box_ymax]
eval "set xtics ".box_xtics
set style fill solid 0.35 border -1
set style boxplot outliers pointtype 7
set boxwidth 0.5
f = datadir."/step_times.csv"
plot for [i = 0 : box_blocks - 1] f index i using (i + 1):2 with boxplot lt (i % 10 + 1) notitle
