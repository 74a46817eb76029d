# feature_maps.gp — one test digit and its pooled feature maps after
# conv + bias + ReLU + max-pool, computed from the showcase parameters.
if (!exists("width")) width = 1200
if (!exists("height")) height = 640
load plotdir."/common.gp"
unset xtics
unset ytics
unset grid
set multiplot title sprintf("Test digit %d (label %d) and its %d feature maps (13x13 after conv, ReLU, 2x2 max-pool), %s", digit_index, digit_label, showcase_filters, showcase_config)
set size ratio -1
set yrange [*:*] reverse
set origin 0.0, 0.1
set size 0.3, 0.8
set title "input digit (28x28)"
set palette gray negative
set cbrange [0:1]
unset colorbox
plot datadir."/digit_grid.csv" skip 1 using 1:2:3 with image notitle
unset label 99
set origin 0.3, 0.05
set size 0.7, 0.9
set title "pooled feature maps, each scaled to its maximum"
set palette defined (0 "#ffffff", 0.5 "#fdae61", 1 "#7f0000")
set colorbox
set cblabel "activation / max of the map"
plot datadir."/maps_grid.csv" skip 1 using 1:2:3 with image notitle
unset multiplot
