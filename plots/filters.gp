# filters.gp — the learned 3x3 conv filters of the showcase configuration as
# images, each scaled to its largest |weight| (red positive, blue negative).
if (!exists("width")) width = 760
if (!exists("height")) height = 720
load plotdir."/common.gp"
set title sprintf("Learned conv filters (%d of 3x3), %s; each scaled to max |w|", showcase_filters, showcase_config)
set size ratio -1
set yrange [*:*] reverse
unset xtics
unset ytics
unset grid
set palette defined (-1 "#2166ac", 0 "#f7f7f7", 1 "#b2182b")
set cbrange [-1:1]
set cblabel "weight / max |weight| of the filter"
plot datadir."/filters_grid.csv" skip 1 using 1:2:3 with image notitle
