# time_vs_params.gp — the original project's headline chart: time of one
# training step against the number of parameters, log-log, per implementation.
load plotdir."/common.gp"
set title sprintf("Step time vs number of parameters (batch %d; median, IQR bars)", params_batch)
set xlabel "parameters (10*(1+169F) + 10F)"
set ylabel "time per training step (ms)"
set logscale xy
set key outside right top
f = datadir."/time_vs_params.csv"
plot for [i = 0 : params_blocks - 1] f index i using 1:2:3:4 with yerrorlines lt (i % 10 + 1) title columnheader(2)
