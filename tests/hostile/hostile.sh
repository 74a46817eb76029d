#!/bin/sh
# tests/hostile/hostile.sh — hostile inputs against the real cnnbench
# (tests/HARDENING.md, "Hostile inputs"). Every case is judged on four
# things at once:
#
#   1. the exit status is the one expected;
#   2. stderr has a "cnnbench: error: " line holding the expected text, which
#      names the file or option at fault (or, for the few controls that must
#      succeed, stdout holds it);
#   3. nothing hangs: each run is killed after $HOSTILE_TIMEOUT seconds
#      (default 20), and a killed run fails the case as "hung";
#   4. nothing is lost: every regular file in the case's directory has the
#      same sha256 afterwards, every FIFO is still there, and no temporary
#      file (NAME.tmp.PID) is left behind.
#
# Crashes and sanitizer reports fail every case too. The closing line is
# "hostile: N passed, N failed".
#
# Adding a case is one line: a call of t (below) with a setup function that
# builds the case's directory. Each case runs in its own directory under
# the scratch directory, so cases cannot disturb one another.
#
# Usage: hostile.sh CNNBENCH MAKE_IDX IDX_CORPUS NPY_HEADER_TABLE
set -u

if [ $# -lt 4 ]; then
    echo "usage: $0 CNNBENCH MAKE_IDX IDX_CORPUS NPY_HEADER_TABLE" >&2
    exit 2
fi
# absolute, as the cases run in their own directories
absolute() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
cnnbench=$(absolute "$1")
make_idx=$(absolute "$2")
corpus=$(absolute "$3")
npy_headers=$(absolute "$4")
. "$(dirname "$0")/../common/check.sh"
case_timeout=${HOSTILE_TIMEOUT:-20}

# ---- the shared, read-only material every case copies from ----

base=$scratch/base
mkdir -p "$base/data" "$base/big" || exit 99
"$make_idx" "$base/data" 200 50 >/dev/null || exit 99
# more than 1000 images: 100000 epochs at batch 1 pass the 10^8 step cap
"$make_idx" "$base/big" 1001 10 >/dev/null || exit 99
tiny="--data data --batch 10 --filters 2 --steps 2 --warmup 0"
(cd "$base" && "$cnnbench" train $tiny --save-params params >/dev/null 2>&1 &&
    "$cnnbench" sweep --impl seq $tiny --out run >/dev/null 2>&1) || {
    echo "hostile: cannot make the parameter files and the run the cases start from" >&2
    exit 99
}
base_sum=$scratch/base.sum
(cd "$base" && find . -type f -exec sha256sum {} + | sort -k 2) > "$base_sum"

# ---- judging one run ----

# snapshot DIR: checksums of DIR's regular files, relative to DIR.
snapshot() {
    (cd "$1" && find . -type f -exec sha256sum {} + | sort -k 2)
}

# judge NAME WANT TEXT WHERE ABSENT DIR: the four checks of the header on
# the run whose status is $rc and whose output is in $scratch/out, err.
judge() {
    j_name=$1 j_want=$2 j_text=$3 j_where=$4 j_absent=$5 j_dir=$6
    why=""
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="hung: killed after ${case_timeout}s"
    elif [ "$rc" -ne "$j_want" ]; then
        why="exit status $rc, expected $j_want"
    fi
    if [ -z "$why" ] && [ "$j_text" != "-" ]; then
        if [ "$j_where" = out ]; then
            grep -qF -- "$j_text" "$scratch/out" || why="stdout lacks '$j_text'"
        else
            grep '^cnnbench: error: ' "$scratch/err" | grep -qF -- "$j_text" ||
                why="no 'cnnbench: error:' line holds '$j_text'"
        fi
    fi
    if [ -z "$why" ] && [ -n "$j_absent" ] &&
        grep -qF -- "$j_absent" "$scratch/out" "$scratch/err"; then
        why="the output holds '$j_absent'"
    fi
    if grep -qE 'Sanitizer|runtime error:|Segmentation fault|core dumped' "$scratch/err"; then
        why="${why:+$why; }a crash or sanitizer report"
    fi
    if [ -s "$scratch/before.sum" ] &&
        ! (cd "$j_dir" && sha256sum -c --quiet --status "$scratch/before.sum" 2>/dev/null); then
        why="${why:+$why; }a file that existed before was changed or removed"
    fi
    (cd "$j_dir" && find . -type p | sort) > "$scratch/fifos.after"
    if ! cmp -s "$scratch/fifos.before" "$scratch/fifos.after"; then
        why="${why:+$why; }a FIFO was removed or replaced"
    fi
    if [ -n "$(find "$j_dir" -name '*.tmp.*' | head -n 1)" ]; then
        why="${why:+$why; }a temporary file was left behind"
    fi
    if [ -z "$why" ]; then
        check 0 "$j_name"
    else
        check 1 "$j_name: $why"
        echo "    stderr:"
        sed 's/^/    | /' "$scratch/err" | head -n 8
    fi
}

# before DIR: records what the judge compares against.
before() {
    snapshot "$1" > "$scratch/before.sum"
    (cd "$1" && find . -type p | sort) > "$scratch/fifos.before"
}

# t NAME STATUS TEXT [-s SETUP] [-x ABSENT] [-o] [-m KIB] -- ARGS...
#   Runs cnnbench ARGS in a fresh directory $scratch/cases/NAME, after the
#   function SETUP has built it (run inside it). TEXT is a fixed string the
#   error line must hold ("-": none looked for); -o looks for it in stdout
#   instead; -x ABSENT must appear in neither output; -m limits the run's
#   address space to KIB KiB (ulimit -v).
t() {
    t_name=$1 t_want=$2 t_text=$3
    shift 3
    t_setup=true t_absent="" t_where=err t_vmem=unlimited
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        case $1 in
            -s) t_setup=$2; shift 2 ;;
            -x) t_absent=$2; shift 2 ;;
            -o) t_where=out; shift ;;
            -m) t_vmem=$2; shift 2 ;;
            *) echo "hostile.sh: case $t_name: unknown flag $1" >&2; exit 99 ;;
        esac
    done
    shift
    t_dir=$scratch/cases/$t_name
    mkdir -p "$t_dir"
    if ! (cd "$t_dir" && $t_setup); then
        check 1 "$t_name: its setup failed"
        return
    fi
    before "$t_dir"
    rc=0
    (cd "$t_dir" && ulimit -v "$t_vmem" && exec timeout "$case_timeout" "$cnnbench" "$@") </dev/null \
        > "$scratch/out" 2> "$scratch/err" || rc=$?
    judge "$t_name" "$t_want" "$t_text" "$t_where" "$t_absent" "$t_dir"
}

# t_signal NAME SIGNAL STATUS TEXT: a training run stopped by SIGNAL once its
# first step is printed; it must exit STATUS, say TEXT and keep every file.
t_signal() {
    s_dir=$scratch/cases/$1
    mkdir -p "$s_dir"
    (cd "$s_dir" && with_data) || { check 1 "$1: its setup failed"; return; }
    before "$s_dir"
    # emptied first, so the wait below cannot see an earlier case's rows
    : > "$scratch/out"
    # --foreground: timeout passes the signal below to cnnbench once; without
    # it, it also signals its whole process group, and cnnbench takes a
    # second signal as "stop at once", with no message (a flaky case under ASan)
    (cd "$s_dir" && exec timeout --foreground "$case_timeout" "$cnnbench" train --data data \
        --batch 10 --filters 2 --steps 1000000 --warmup 0 --print-every 1000000) </dev/null \
        > "$scratch/out" 2> "$scratch/err" &
    s_pid=$!
    i=0
    while [ $i -lt $((case_timeout * 10)) ] && ! grep -q '^ *1 ' "$scratch/out"; do
        sleep 0.1
        i=$((i + 1))
    done
    # timeout runs cnnbench as its child and passes the signal on
    kill "-$2" "$s_pid" 2>/dev/null
    rc=0
    wait "$s_pid" || rc=$?
    judge "$1" "$3" "$4" err "" "$s_dir"
}

# ---- setups: each builds the current directory of one case ----

with_data() { cp -R "$base/data" data; }
with_params() { with_data && cp -R "$base/params" p; }
with_runs() { cp -R "$base/run" run && cp -R "$base/run" run2; }

# patch_f32 FILE INDEX BYTES: overwrites float INDEX of a .npy file's data
# with the 4 bytes BYTES (printf escapes, little-endian).
patch_f32() {
    hlen=$(od -An -tu1 -j8 -N2 "$1" | awk '{ print $1 + 256 * $2 }')
    printf "$3" | dd of="$1" bs=1 seek=$((10 + hlen + 4 * $2)) conv=notrunc 2>/dev/null
}
nan='\000\000\300\177'
pos_inf='\000\000\200\177'
neg_inf='\000\000\200\377'
flt_max='\377\377\177\177'

nan_bias() { with_params && patch_f32 p/conv_b.npy 1 "$nan"; }
inf_weight() { with_params && patch_f32 p/fc_w.npy 0 "$pos_inf"; }
neg_inf_conv() { with_params && patch_f32 p/conv_w.npy 4 "$neg_inf"; }
# conv biases at FLT_MAX: every feature overflows the logits, the loss is NaN
huge_bias() { with_params && patch_f32 p/conv_b.npy 0 "$flt_max" && patch_f32 p/conv_b.npy 1 "$flt_max"; }
huge_bias_csv() { huge_bias && echo "an earlier run's rows" > steps.csv; }

fifo_images() { with_data && rm data/train-images-idx3-ubyte && mkfifo data/train-images-idx3-ubyte; }
fifo_labels_gz() { with_data && rm data/t10k-labels-idx1-ubyte && mkfifo data/t10k-labels-idx1-ubyte.gz; }
link_to_fifo() { with_data && rm data/train-labels-idx1-ubyte && mkfifo fifo &&
    ln -s ../fifo data/train-labels-idx1-ubyte; }
device_images() { with_data && rm data/train-images-idx3-ubyte && ln -s /dev/zero data/train-images-idx3-ubyte; }
dir_images() { with_data && rm data/train-images-idx3-ubyte && mkdir data/train-images-idx3-ubyte; }
fifo_npy() { with_params && rm p/fc_b.npy && mkfifo p/fc_b.npy; }
fifo_steps() { with_runs && rm run2/steps.csv && mkfifo run2/steps.csv; }
fifo_summary() { with_runs && rm run2/summary.csv && mkfifo run2/summary.csv; }
fifo_meta() { with_runs && rm run2/meta.json && mkfifo run2/meta.json; }

# gz_images FILE: the training images replaced by FILE, as .gz
gz_images() { with_data && rm data/train-images-idx3-ubyte && cp "$1" data/train-images-idx3-ubyte.gz; }
gz_zero_tail() {
    with_data && gzip -n < data/train-images-idx3-ubyte > data/train-images-idx3-ubyte.gz &&
        printf '\000\000\000\000' >> data/train-images-idx3-ubyte.gz && rm data/train-images-idx3-ubyte
}
# two gzip members back to back, as `cat a.gz b.gz` makes: valid
gz_two_members() {
    with_data && f=data/train-images-idx3-ubyte && n=$(wc -c < "$f") &&
        head -c $((n / 2)) "$f" | gzip -n > "$f.gz" &&
        tail -c $((n - n / 2)) "$f" | gzip -n >> "$f.gz" && rm "$f"
}

unwritable_csv() { echo "a file, not a directory" > notadir; }

# npy_with_header DICT: p/conv_b.npy rewritten with header DICT (padded as
# NumPy pads it) over the two floats of a 2-filter model's conv_b.
npy_with_header() {
    with_params || return 1
    dlen=${#1}
    pad=$(( (64 - (10 + dlen + 1) % 64) % 64 ))
    hlen=$((dlen + pad + 1))
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf '%03o' $((hlen % 256)))\\$(printf '%03o' $((hlen / 256)))"
        printf '%s' "$1"
        printf "%${pad}s\n" ""
        head -c 8 /dev/zero
    } > p/conv_b.npy
}

# ---- the cases, by class (tests/HARDENING.md) ----

echo "1. non-finite parameters and diverging training:"
t nan-bias 1 "p/conv_b.npy: conv_b[1] is nan" -s nan_bias -- train $tiny --load-params p
t inf-weight 1 "p/fc_w.npy: fc_w[0][0] is inf" -s inf_weight -- train $tiny --load-params p
t neg-inf-conv 1 "p/conv_w.npy: conv_w[0][0][1][1] is -inf" -s neg_inf_conv -- \
    train $tiny --load-params p
t nan-bias-omp 1 "p/conv_b.npy: conv_b[1] is nan" -s nan_bias -- \
    train $tiny --impl omp --load-params p
t nan-bias-save-over 1 "conv_b[1] is nan" -s nan_bias -- \
    train $tiny --load-params p --save-params p
t diverge-seq 3 "training diverged: the loss of step 1 is nan" -s huge_bias -- \
    train $tiny --load-params p
t diverge-omp 3 "not the backend under test" -x "disagrees" -s huge_bias -- \
    train $tiny --impl omp --load-params p
t diverge-keeps-outputs 3 "training diverged" -s huge_bias_csv -- \
    train $tiny --load-params p --save-params p --csv steps.csv

echo "2. GPU-count and other geometric ranges from 0:"
t gpus-0-4-x2 2 "--gpus: the geometric range 0:4:x2 starts at 0" -s with_data -- \
    sweep --data data --gpus 0:4:x2 --dry-run
t gpus-0-0-x2 2 "--gpus: the geometric range 0:0:x2" -s with_data -- \
    sweep --data data --gpus 0:0:x2 --dry-run
t batch-0-8-x2 2 "--batch" -s with_data -- sweep --data data --batch 0:8:x2 --dry-run

echo "3. sweep plans past the cap, and the largest allowed:"
t plan-262M 2 "more than the 100000 one sweep may run" -s with_data -- sweep --data data \
    --impl seq,omp --threads 1:64 --batch 1:64 --filters 1:64 --steps 1:64 --reps 1000 --dry-run
t plan-reps 2 "128000 configurations" -s with_data -- sweep --data data --impl seq \
    --batch 1:64 --filters 1:2 --reps 1000 --dry-run
t plan-98304-control 0 "sweep: 98304 configurations" -o -s with_data -- sweep --data data \
    --impl seq --batch 1:64 --filters 1:64 --steps 1:24 --dry-run

echo "4. FIFOs, devices and directories where a regular file belongs:"
t fifo-idx 1 "data/train-images-idx3-ubyte: is a FIFO" -s fifo_images -- train $tiny
t fifo-idx-gz 1 "data/t10k-labels-idx1-ubyte.gz: is a FIFO" -s fifo_labels_gz -- train $tiny
t link-to-fifo 1 "data/train-labels-idx1-ubyte: is a FIFO" -s link_to_fifo -- train $tiny
t device-idx 1 "data/train-images-idx3-ubyte: is a character device" -s device_images -- \
    train $tiny
t directory-idx 1 "data/train-images-idx3-ubyte: is a directory" -s dir_images -- train $tiny
t fifo-npy 1 "p/fc_b.npy: is a FIFO" -s fifo_npy -- train $tiny --load-params p
t fifo-compare-steps 2 "run2/steps.csv: is a FIFO" -s fifo_steps -- compare run run2
t fifo-compare-summary 2 "run2/summary.csv: is a FIFO" -s fifo_summary -- compare run run2
t fifo-resume-meta 1 "run2/meta.json: is a FIFO" -s fifo_meta -- sweep --resume run2
t fifo-plotdata 1 "run2/steps.csv: is a FIFO" -s fifo_steps -- plotdata run2
t fifo-report 1 "run2/meta.json: is a FIFO" -s fifo_meta -- report run2

echo "5. gzip: trailing bytes and broken streams rejected, members accepted:"
gz_from_corpus() { gz_images "$gz_source"; }
for gz_source in "$corpus"/bad-gzip-*.gz; do
    t "corpus-$(basename "$gz_source" .gz)" 1 "data/train-images-idx3-ubyte.gz: " \
        -s gz_from_corpus -- train $tiny
done
t gzip-zero-tail 1 "4 bytes of trailing data after the end of the gzip stream" \
    -s gz_zero_tail -- train $tiny
t gzip-two-members-control 0 "final loss" -o -s gz_two_members -- train $tiny

echo "6. small things a user trips on:"
t list-bogus 2 "list takes no arguments, got '--bogus'" -- list --bogus
t list-positional 2 "list takes no arguments, got 'seq'" -- list seq
t version-bogus 2 "version takes no arguments, got '--bogus'" -- version --bogus
t repeated-batch 2 "--batch is given twice" -x "cnnbench train:" -s with_data -- \
    train $tiny --batch 20
t repeated-flag 2 "--eval is given twice" -s with_data -- train $tiny --eval --eval
t repeated-inline 2 "--steps is given twice" -s with_data -- \
    sweep --data data --steps=2 --steps 3 --dry-run
t repeated-compare 2 "--threshold is given twice" -s with_runs -- \
    compare run run2 --threshold 5 --threshold 6
t threads-dropped-note 0 "1 combination skipped by the rules: threads only for backends" \
    -o -s with_data -- sweep --data data --impl seq --threads 2 --dry-run
t lr-hex 2 "--lr: expected a decimal number" -s with_data -- train $tiny --lr 0x10
t lr-inf 2 "--lr: expected a decimal number" -s with_data -- train $tiny --lr inf
t lr-underflow 2 "--lr: 1e-400 is out of range" -s with_data -- train $tiny --lr 1e-400
t lr-overflow 2 "--lr: 1e400 is out of range" -s with_data -- train $tiny --lr 1e400
t lr-float-zero 2 "--lr: 1e-50 is too small" -s with_data -- train $tiny --lr 1e-50
t sweep-lr-hex 2 "--lr: expected a decimal number" -s with_data -- \
    sweep --data data --lr 0x10 --dry-run
t csv-empty 2 "--csv: the value is empty" -x "cnnbench train:" -s with_data -- \
    train $tiny --csv ''
t csv-inline-empty 2 "--csv: the value is empty" -s with_data -- train $tiny --csv=
t save-params-empty 2 "--save-params: the value is empty" -s with_data -- \
    train $tiny --save-params ''
t data-empty 2 "--data: the value is empty" -- train --data ''
t csv-target-named 1 "notadir/x.csv: cannot create" -x ".tmp." -s unwritable_csv -- \
    train --data "$base/data" --steps 1 --csv notadir/x.csv
t epochs-over-cap 2 "is 100100000 steps, more than the 100000000" -x "cnnbench train:" -- \
    train --data "$base/big" --epochs 100000 --batch 1
t_signal sigterm TERM 143 "terminated by SIGTERM: interrupted after"
t_signal sigint INT 130 "interrupted after"
if ldd "$cnnbench" 2>/dev/null | grep -q asan; then
    # ASan reserves terabytes of shadow address space at start
    echo "  (an ASan build cannot run under ulimit -v: the oneDNN out-of-memory case is left out)"
elif "$cnnbench" list 2>/dev/null |
    awk '/^[a-z]/ { c = ($1 == "onednn") } c && /runs here: yes/ { ok = 1 } END { exit !ok }'
then
    # 4 GB of address space: oneDNN's first large buffer cannot be had
    t onednn-oom 1 "onednn: out of host memory" -x "onednn.c:" -m 4000000 -s with_data -- \
        train --impl onednn --data data --batch 65536 --filters 4096 --steps 1 --warmup 0 \
        --no-verify
else
    echo "  (onednn does not run here: its out-of-memory case is left out)"
fi

echo "6b. .npy headers, one case per line of $(basename "$npy_headers"):"
npy_from_table() { npy_with_header "$npy_dict"; }
while IFS='|' read -r name text npy_dict; do
    case $name in ''|'#'*) continue ;; esac
    if [ "$text" = OK ]; then
        t "npy-$name" 0 "final loss" -o -s npy_from_table -- train $tiny --load-params p
    else
        t "npy-$name" 1 "p/conv_b.npy: $text" -s npy_from_table -- train $tiny --load-params p
    fi
done < "$npy_headers"

(cd "$base" && sha256sum -c --quiet --status "$base_sum")
check $? "the shared material the cases copied from is unchanged"
finish
