# energy.gp — what a step costs: images per joule against images per second,
# log-log, one point per configuration, a curve per backend label and
# device (its CPU packages and DRAM through RAPL, or its GPUs through NVML);
# bars from the IQR of the step time (B/q3 .. B/q1). Only measured energy is
# drawn: a device without a readable meter has no point, and meta.json's
# "energy" object says why.
#
# Table (cnnbench plotdata): energy.csv, a block per label and device, each
# opening with a header line whose second field names it; columns
# 1 images_per_s, 2 images_per_joule, 3 images_per_s_lo, 4 images_per_s_hi,
# 5 config_key, 6 unstable. plotinfo.gp: energy_blocks, energy_note,
# energy_unstable.
load plotdir."/common.gp"
set title "Energy: images per joule vs images per second (measured meters only)".energy_note
set xlabel "images / s"
set ylabel "images / J"
set logscale xy
set key outside right top
f = datadir."/energy.csv"
first = 0
blocks = energy_blocks
unstable = energy_unstable
plot for [i = 0 : blocks - 1] f index i using 1:2:3:4 with xerrorbars lt (i % 10 + 1) \
         title columnheader(2), \
     @hollow_unstable
