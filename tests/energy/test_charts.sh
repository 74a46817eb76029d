#!/bin/sh
# test_charts.sh — plots/roofline.gp and plots/energy.gp draw the tables
# test_roofline writes for a synthetic run, as PNG and SVG, without a word
# from gnuplot (a warning means a table and its script disagree). Exits 77
# without gnuplot.
# Usage: test_charts.sh TEST_ROOFLINE PLOTS_DIR
. "$(dirname "$0")/../common/check.sh"
test_roofline=$1
plots=$2
command -v gnuplot >/dev/null 2>&1 || { echo "test_charts: skipped: no gnuplot"; exit 77; }

"$test_roofline" "$scratch" >"$scratch/tables.log" 2>&1
check $? "test_roofline wrote the tables"

for chart in roofline energy; do
    for fmt in png svg; do
        gnuplot -e "datadir='$scratch'; plotdir='$plots'; out='$scratch/$chart'; fmt='$fmt'" \
            "$plots/$chart.gp" >"$scratch/$chart.$fmt.log" 2>&1
        check $? "$chart.$fmt: gnuplot exits 0"
        [ -s "$scratch/$chart.$fmt" ]
        check $? "$chart.$fmt: drawn"
        [ ! -s "$scratch/$chart.$fmt.log" ] || sed 's/^/    /' "$scratch/$chart.$fmt.log"
        [ ! -s "$scratch/$chart.$fmt.log" ]
        check $? "$chart.$fmt: gnuplot printed nothing"
    done
done
# a run without a dashed roof (every region fuses multiply and add: a GPU-only
# run) draws as well
mkdir -p "$scratch/solid-only"
cp "$scratch/roofline.csv" "$scratch/roofline_ceilings.csv" "$scratch/solid-only/"
sed "s/^roof_dashed = .*/roof_dashed = ''/" "$scratch/plotinfo.gp" >"$scratch/solid-only/plotinfo.gp"
gnuplot -e "datadir='$scratch/solid-only'; plotdir='$plots'; out='$scratch/solid-only/roofline'; fmt='png'" \
    "$plots/roofline.gp" >"$scratch/solid-only.log" 2>&1
check $? "roofline.png without a dashed roof: gnuplot exits 0"
[ ! -s "$scratch/solid-only.log" ] || sed 's/^/    /' "$scratch/solid-only.log"
[ -s "$scratch/solid-only/roofline.png" ] && [ ! -s "$scratch/solid-only.log" ]
check $? "roofline.png without a dashed roof: drawn, gnuplot printed nothing"
# every region row of the table has finite numbers in its numeric columns
awk -F, 'NF == 11 && $1 != "intensity_flop_per_byte" {
    for (k = 1; k <= 11; k++) if (k != 3 && k != 5 && k != 10 && $k !~ /^[0-9.e+-]+$/) bad++
    rows++ }
    END { exit !(rows > 0 && bad == 0) }' "$scratch/roofline.csv"
check $? "roofline.csv: every row finite"
finish
