# breakdown_share.gp — each region's share of a step, stacked, one bar per
# implementation, at the size the most implementations ran.
load plotdir."/common.gp"
set title sprintf("Where a step's time goes (B=%d, F=%d): share of the summed region medians", share_batch, share_filters)
set ylabel "share of step time (%)"
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.7
set xtics rotate by -25
set key outside right top
f = datadir."/breakdown_share.csv"
plot for [i = 2 : share_columns + 1] f using i:xtic(1) title columnheader(i)
