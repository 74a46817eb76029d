# roofline.gp — where each region stands against the machine: achieved
# FLOP/s against arithmetic intensity (FLOP per byte moved, from the work
# model of docs/DESIGN.md §7, bench/engine/roofline.c), log-log, one point per
# region per configuration; a colour per backend label, a marker per region.
# The ceilings are lines: peak FMA FLOP/s and memory bandwidth (solid), and
# the multiply-and-add-apart peak that code bitwise equal to seq is held to
# (dashed). Regions without counted FLOPs (loss, update, copies) cannot sit
# on a log axis; REPORT.md gives their bandwidth fraction instead.
#
# Tables (cnnbench plotdata; gnuplot data blocks, each opening with a header
# line whose second field names the curve):
#   roofline.csv: a block per label; columns 1 intensity_flop_per_byte,
#     2 achieved FLOP/s, 3 region, 4 region_no, 5 config_key, 6 unstable,
#     7 flop, 8 bytes, 9 median_ms, 10 bound, 11 fraction.
#   roofline_ceilings.csv: a block per ceiling, the corners of
#     min(peak, intensity x bandwidth): 1 intensity_flop_per_byte, 2 FLOP/s.
# plotinfo.gp: roof_blocks (blocks of roofline.csv), roof_solid and
# roof_dashed (the numbers of the ceiling blocks drawn solid, FMA roofs, and
# dashed, multiply-and-add-apart roofs, as words: '0 2'), roof_note,
# roof_unstable.
if (!exists("width")) width = 1400
if (!exists("height")) height = 720
load plotdir."/common.gp"
set title "Roofline: achieved FLOP/s per region vs FLOP per byte (work model of DESIGN §7)".roof_note
set xlabel "arithmetic intensity (FLOP / byte moved)"
set ylabel "achieved FLOP/s"
set logscale xy
set format y "%.0s%c"
# beside the plot, whose right edge is fixed: left to itself, gnuplot gives
# the ceilings' long titles two thirds of the width; inside, the key would
# hide points
set key outside right top font ",9"
set rmargin at screen 0.58
f = datadir."/roofline.csv"
c = datadir."/roofline_ceilings.csv"
# markers by region number (impl/cnn.h): conv_fwd 1, fc_fwd 2, fc_bwd 5,
# conv_bwd 6 have FLOPs; the rest are drawn, if ever, as a plain dot
array region_solid[10] = [0, 7, 5, 0, 0, 9, 13, 0, 0, 0]
array region_hollow[10] = [0, 6, 4, 0, 0, 8, 12, 0, 0, 0]
# (a header line reads as NaN here: no marker)
solid(r) = r >= 0 && r <= 9 ? region_solid[int(r) + 1] : 0
hollow(r) = r >= 0 && r <= 9 ? region_hollow[int(r) + 1] : 0
on_log(v) = v > 0 ? v : NaN
unstable = roof_unstable
# the k-th block of a list of block numbers (words), guarded: gnuplot
# evaluates an iteration's index once even when the list is empty, as a
# GPU-only run's list of dashed roofs is
roof_block(list, k) = k <= words(list) ? word(list, k) + 0 : 0
plot for [j = 1 : words(roof_solid)] c index roof_block(roof_solid, j) using 1:2 \
         with lines lw 1.5 lc rgb "#555555" title columnheader(2), \
     for [j = 1 : words(roof_dashed)] c index roof_block(roof_dashed, j) using 1:2 \
         with lines lw 1.5 dt 2 lc rgb "#555555" title columnheader(2), \
     for [i = 0 : roof_blocks - 1] f index i using (on_log($1)):(on_log($2)):(solid($4)) \
         with points lt (i % 10 + 1) pt variable notitle, \
     for [i = 0 : roof_blocks - 1] f index i using (NaN):(NaN) with lines lw 6 lt (i % 10 + 1) \
         title columnheader(2), \
     for [i = 0 : roof_blocks - 1] f index i using (on_log($1)):($6 > 0 ? on_log($2) : NaN) \
         with points pt 7 lc rgb "#ffffff" notitle, \
     for [i = 0 : roof_blocks - 1] f index i using (on_log($1)):($6 > 0 ? on_log($2) : NaN):(hollow($4)) \
         with points lt (i % 10 + 1) pt variable notitle, \
     keyentry with points pt 7 lc rgb "#444444" title "conv_fwd", \
     keyentry with points pt 5 lc rgb "#444444" title "fc_fwd", \
     keyentry with points pt 9 lc rgb "#444444" title "fc_bwd", \
     keyentry with points pt 13 lc rgb "#444444" title "conv_bwd", \
     keyentry with points pt 6 lc rgb "#444444" title (unstable ? "hollow: unstable" : ""), \
     @unstable_why
