#!/usr/bin/env bash
# The pipeline against the plain PyTorch loop (bench/peer.py), side by side in
# one run, twice, interleaved (issue 14): the paper's SID at 64x64, encoder-cnn,
# no view and a null sink, batch 1 and 8, float32 and bfloat16, on 2 cores.
#   bench/peer.sh [OUT_DIR]    (about 3 minutes here; run it on a quiet machine)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=build/tools/spikevid
PY=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch lives there, whatever python3 is first on PATH
R=${1:-bench/results/peer-cpu-$(date -u +%F)}
mkdir -p "$R" out/ts
sid=models/weights/sid-natural.svm
$S export --torchscript out/ts --decoder $sid >/dev/null || exit 1
date -u
for round in 1 2; do
  $PY bench/peer.py --models out/ts --decoder sid-natural.pt --batch 1,8 --precision float32,bfloat16 \
    --threads 2 --json "$R/peer-$round.json" | tee "$R/peer-$round.txt"
  # The line: the same work on the same 2 cores, threads auto (the default:
  # the cores split by measured cost, the decoder as one-thread workers on
  # alternate batches). Modules optimized (the default: BatchNorm folded, no
  # dropout, channels-last convolutions) and as-trained (the line before
  # that), interleaved. --peer: the same plain loop in C++, over the line's
  # own model objects.
  $S bench --decoder $sid --view none --batch 1,8 --precision float32,bfloat16 \
    --modules optimized,as-trained --frames 600 --no-sequential --peer \
    --json "$R/line-$round.json" > "$R/line-$round.txt" 2>&1
  grep "^bench:\|^peer:" "$R/line-$round.txt"
done
date -u
