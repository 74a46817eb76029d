# common.gp — loaded first by every chart script: terminal and output file,
# the facts cnnbench plotdata wrote (plotinfo.gp), the line naming the run's
# CPU and GPU that every chart carries at its foot, ten distinct colours
# (linetypes 1..10: curve i uses lt (i % 10 + 1), stacked bars cycle through
# them) and how unstable points are drawn.
# Set by render.sh: datadir (RUN/plots/data), out (file name without
# extension), fmt ('png' or 'svg'). A script may set width and height first.
if (!exists("width")) width = 960
if (!exists("height")) height = 600
if (fmt eq "svg") {
    set terminal svg size width, height dynamic noenhanced font "sans,12" background "#ffffff"
} else {
    set terminal pngcairo size width, height noenhanced font "sans,10" background "#ffffff"
}
set output out.".".fmt
set datafile separator comma
load datadir."/plotinfo.gp"
set grid lc rgb "#dddddd"
set key noautotitle
set bmargin 5
set label 99 machine at screen 0.01, screen 0.02 left font ",8" textcolor rgb "#555555"
# Each colour with a filled marker; pt_hollow[k] is the outline of pt_solid[k].
marker_size = 1.2
array pt_solid[10] = [7, 5, 9, 11, 13, 7, 5, 9, 11, 13]
array pt_hollow[10] = [6, 4, 8, 10, 12, 6, 4, 8, 10, 12]
array colours[10] = [0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e, \
                     0x8c564b, 0xe377c2, 0x17becf, 0xbcbd22, 0x7f7f7f]
do for [k = 1 : 10] {
    set linetype k lc rgb sprintf("#%06x", colours[k]) lw 2 pt pt_solid[k] ps marker_size
}
# The pastel of colour k, for fills: 35% of it on white.
pastel(k) = sprintf("#%02x%02x%02x", 166 + int(0.35 * ((colours[k] >> 16) & 255)), \
                    166 + int(0.35 * ((colours[k] >> 8) & 255)), 166 + int(0.35 * (colours[k] & 255)))
# Unstable points: the configuration's step times vary by more than 10%
# (coefficient of variation; summary.csv's unstable column), so the figure
# drawn from them is not to be trusted. Tables of points carry it in column
# 6; a script plots `@hollow_unstable` after its curves to redraw those
# points hollow (a white marker, then the outline in the curve's colour)
# and add legend entries when there are any. It uses the script's f (the
# table), first (the block of the first curve), blocks (the curves) and
# unstable (whether any point is). Bar and box charts mark unstable
# configurations their own way and add `@unstable_why` below that entry.
first = 0
unstable_why = "keyentry with points ps 0 lc rgb '#ffffff' title (unstable ? '(step-time CV > 10%)' : '')"
hollow_unstable = \
    "for [i = 0 : blocks - 1] f index (first + i) using 1:2:($6 > 0 ? marker_size : 0)" . \
    " with points pt pt_solid[i % 10 + 1] ps variable lc rgb '#ffffff' notitle," . \
    " for [i = 0 : blocks - 1] f index (first + i) using 1:2:($6 > 0 ? marker_size : 0)" . \
    " with points lt (i % 10 + 1) pt pt_hollow[i % 10 + 1] ps variable notitle," . \
    " keyentry with points pt 6 lc rgb '#444444' title (unstable ? 'hollow: unstable' : '')," . \
    unstable_why
