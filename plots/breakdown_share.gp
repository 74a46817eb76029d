# breakdown_share.gp — each region's share of a step, stacked, one bar per
# implementation, at the size the most implementations ran; a bar whose
# configuration is unstable ends its label in '*'.
load plotdir."/common.gp"
set title sprintf("Where a step's time goes (B=%d, F=%d): share of the summed region medians", share_batch, share_filters).share_note
set ylabel "share of step time (%)"
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.7
set xtics rotate by -25
set bmargin 8
set key outside right top
f = datadir."/breakdown_share.csv"
unstable = share_unstable
plot for [i = 2 : share_columns + 1] f using i:xtic(1) title columnheader(i), \
     keyentry with points ps 0 lc rgb '#ffffff' title (unstable ? "label*: unstable" : ""), \
     @unstable_why
