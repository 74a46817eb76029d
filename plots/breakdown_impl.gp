# breakdown_impl.gp — absolute median time of each region, stacked, for one
# implementation (impl, set by render.sh) over the filter counts it ran; a
# filter count whose configuration is unstable is labelled with '*'.
load plotdir."/common.gp"
cols = value("breakdown_columns_".impl)
set title sprintf("Region times of %s vs filters (batch %d; medians, stacked)", value("breakdown_label_".impl), breakdown_batch)
set xlabel "conv filters F"
set ylabel "median time per step (ms)"
set yrange [0:*]
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.7
set key outside right top
f = datadir."/breakdown_".impl.".csv"
unstable = value("breakdown_unstable_".impl)
plot for [i = 2 : cols + 1] f using i:xtic(1) title columnheader(i), \
     keyentry with points ps 0 lc rgb '#ffffff' title (unstable ? "label*: unstable" : ""), \
     @unstable_why
