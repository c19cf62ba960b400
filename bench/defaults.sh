#!/usr/bin/env bash
# Issue 14's goals for the defaults, side by side in one run, twice, interleaved:
# the plain loop's best setting (bench/peer.py, bfloat16, batch 8) against
# `spikevid bench --decoder SID --view none` with every other option at its
# default (precision, batch and threads auto), and the realtime line with
# defaults (p99 end to end at 30 frames/s in).
#   bench/defaults.sh [OUT_DIR]    (about 3 minutes; run it on a quiet machine)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=build/tools/spikevid
PY=${PYTHON:-/usr/bin/python3}
R=${1:-bench/results/defaults-cpu-$(date -u +%F)}
mkdir -p "$R" out/ts
sid=models/weights/sid-natural.svm
$S export --torchscript out/ts --decoder $sid >/dev/null || exit 1
date -u
for round in 1 2; do
  $PY bench/peer.py --models out/ts --decoder sid-natural.pt --batch 8 --precision bfloat16 \
    --threads 2 --json "$R/peer-$round.json" | tee "$R/peer-$round.txt"
  $S bench --decoder $sid --view none --frames 1200 --json "$R/offline-$round.json" \
    > "$R/offline-$round.txt" 2>&1
  grep "^bench:" "$R/offline-$round.txt"
  $S bench --mode realtime --fps 30 --decoder $sid --json "$R/realtime-$round.json" \
    > "$R/realtime-$round.txt" 2>&1
  grep -E "^bench:|^end to end" "$R/realtime-$round.txt"
done
date -u
