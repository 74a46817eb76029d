# common.gp — loaded first by every chart script: terminal and output file,
# the facts cnnbench plotdata wrote (plotinfo.gp), the line naming the run's
# CPU and GPU that every chart carries at its foot, and ten distinct colours
# (linetypes 1..10: curve i uses lt (i % 10 + 1), stacked bars cycle through them).
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
set linetype 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.8
set linetype 2 lc rgb "#d62728" lw 2 pt 5 ps 0.8
set linetype 3 lc rgb "#2ca02c" lw 2 pt 9 ps 0.8
set linetype 4 lc rgb "#9467bd" lw 2 pt 11 ps 0.8
set linetype 5 lc rgb "#ff7f0e" lw 2 pt 13 ps 0.8
set linetype 6 lc rgb "#8c564b" lw 2 pt 3 ps 0.8
set linetype 7 lc rgb "#e377c2" lw 2 pt 1 ps 0.8
set linetype 8 lc rgb "#17becf" lw 2 pt 2 ps 0.8
set linetype 9 lc rgb "#bcbd22" lw 2 pt 4 ps 0.8
set linetype 10 lc rgb "#7f7f7f" lw 2 pt 6 ps 0.8
