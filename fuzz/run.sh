#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every fuzz target (or the ones named) for SECONDS each:
#   fuzz/run.sh 60                      # the CI smoke run: a minute per target
#   fuzz/run.sh 3600 tokeniser elf      # a longer campaign on some targets
# Corpora grow in ${FUZZ_WORK:-/tmp/shimsim-fuzz}/<target>/ (seeded from tests/fixtures);
# a crashing input is saved there as crash-* and the script exits 1 after all targets ran.
# Under ASan: build with SHIMSIM_SANITIZE=1 and set FUZZ_PRELOAD=$(gcc -print-file-name=libasan.so).
set -u
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
work=${FUZZ_WORK:-/tmp/shimsim-fuzz}
targets=${*:-$("$py" "$here/fuzz.py" --list | cut -d' ' -f1)}
status=0
for t in $targets; do
    mkdir -p "$work/$t/corpus" "$work/$t/seeds"
    "$py" "$here/fuzz.py" "$t" --seeds "$work/$t/seeds" >/dev/null || exit 2
    log="$work/$t/log"
    env ${FUZZ_PRELOAD:+LD_PRELOAD=$FUZZ_PRELOAD} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
        "$py" "$here/fuzz.py" "$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -max_len=16384 -artifact_prefix="$work/$t/" "$work/$t/corpus" "$work/$t/seeds" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$execs" ] || execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    crashes=$(ls "$work/$t" | grep -Ec '^(crash|timeout|oom|leak)-' || true)
    printf '%-22s rc=%-3s execs=%-8s crashes=%s\n' "$t" "$rc" "${execs:-?}" "$crashes"
    [ "$rc" -eq 0 ] || status=1
done
exit $status
