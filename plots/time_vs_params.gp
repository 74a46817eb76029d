# time_vs_params.gp — the original project's headline chart: time of one
# training step against the number of parameters, log-log, per
# implementation; a tick at each parameter count run, with its filter count.
load plotdir."/common.gp"
set title sprintf("Step time vs number of parameters (batch %d; median, IQR bars)", params_batch).params_note
set xlabel "parameters (10*(1+169F) + 10F)" offset 0, -1
set ylabel "time per training step (ms)"
set logscale xy
set xrange [params_x_min : params_x_max]
set yrange [params_y_min : params_y_max]
# each parameter count run, with its F, unless there are too many to label
set xtics ()
do for [k = 1 : words(params_x_ticks)] {
    label = word(params_x_labels, k)
    if (words(params_x_filters) > 0) { label = label."\nF=".word(params_x_filters, k) }
    set xtics add (label word(params_x_ticks, k) + 0)
}
set ytics (); do for [k = 1 : words(params_y_ticks)] { set ytics add (word(params_y_labels, k) word(params_y_ticks, k) + 0) }
set bmargin 7
set key outside right top
f = datadir."/time_vs_params.csv"
blocks = params_blocks
unstable = params_unstable
plot for [i = 0 : blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2), \
     @hollow_unstable
