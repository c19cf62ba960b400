#!/usr/bin/env bash
# Trains the shipped models on a GPU machine whose only C++ library is the CUDA
# LibTorch of its PyTorch install. Builds spikevid with SPIKEVID_LIBTORCH_ONLY,
# then: the CNN encoder, SID on natural patches, SID on MNIST, test scores, and
# (as time allows) SID at three cell counts. Everything lands in OUT_DIR.
#
#   tools/gpu-train.sh OUT_DIR [BUDGET_MINUTES] [full|finetune|improve|lite]
#
# finetune: continues the shipped SIDs (models/weights) at a tenth of the
# learning rate, for the minutes left; nothing else.
# improve: three runs side by side on the one GPU, each with a cosine
# learning-rate schedule over its minutes: the shipped natural SID continued,
# SID-lite trained from scratch, the shipped MNIST SID continued; then their
# validation and test scores. Logs and scores land in OUT_DIR/logs.tar.gz.
# Every plan also packs OUT_DIR into OUT_DIR.tar.gz (weights, logs, scores).
# lite: two SID-lite runs side by side, each with a cosine schedule over the
# minutes: the shipped one continued, and one twice as wide (--width 1024)
# from scratch; then their test scores, in OUT_DIR/logs.tar.gz.
# SPIKEVID_CUDA=OFF builds without the CUDA path (training does not need it).
#
# Needs: data/packs/{natural,mnist}.pack (spikevid pack-data, made where OpenCV
# is) and the header-only CLI11 and nlohmann in .carry/include, made here with
#   mkdir -p .carry/include && cp -r /usr/include/CLI /usr/include/nlohmann .carry/include/
set -uo pipefail
out=${1:?usage: tools/gpu-train.sh OUT_DIR [BUDGET_MINUTES]}
budget=${2:-9}
plan=${3:-full}
mkdir -p "$out"
start=$(date +%s)
log="$out/log.txt"
say() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$log"; }
left_min() { python3 -c "print(max(0.0, ($budget*60 - ($(date +%s) - $start)) / 60))"; }
# Minutes for a step: as planned, but leaving `reserve` minutes for the steps after it.
mins() { python3 -c "print(f'{max(0.05, min($1, $(left_min) - $2)):.2f}')"; }  # planned, reserve

dev=${DEVICE:-cuda}
say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1)"
build=${SPIKEVID_GPU_BUILD:-build-gpu}
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
say "torch: $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>&1 | tail -1)"
jobs=$(nproc)
if [ -x "$build/tools/spikevid" ] && [ "${SPIKEVID_GPU_REBUILD:-1}" = 0 ]; then
  say "using the existing $build"
elif ! cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSPIKEVID_LIBTORCH_ONLY=ON \
      -DSPIKEVID_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$prefix" -DSPIKEVID_CUDA="${SPIKEVID_CUDA:-ON}" \
      -DSPIKEVID_EXTRA_INCLUDE="$PWD/.carry/include" >"$out/build.txt" 2>&1 ||
   ! cmake --build "$build" -j"$jobs" --target spikevid >>"$out/build.txt" 2>&1; then
  say "build failed:"; grep -E "error|Error" -A3 "$out/build.txt" | head -60 | tee -a "$log"; exit 1
fi
say "built"
sv=$build/tools/spikevid
w="$out"
run() { say "run: $*"; "$sv" "$@" 2>&1 | tee -a "$log"; }
# Side-by-side runs on the one GPU: bg NAME ARGS... starts one, logged to /tmp/logs/NAME.log.
mkdir -p /tmp/logs
bg() { local name=$1; shift; say "start $name: $*"; "$sv" "$@" >"/tmp/logs/$name.log" 2>&1 & }
# After `wait`: each run's last lines, then test scores of the natural decoders given.
summarize() { for f in "$@"; do say "$f: $(grep -E 'validation|cosine|stopped|finished' /tmp/logs/$f.log | tail -3 | tr '\n' ' ')"; done; }
eval_natural() {
  for d in "$@"; do
    [ -f "$w/$d.svm" ] && run eval --data data/packs/natural.pack --encoder models/weights/encoder-cnn.svm \
      --sid "$w/$d.svm" --linear none --device "$dev" --json "/tmp/logs/$d-test.json"
  done
}
# Logs, and everything in OUT_DIR in one archive: a device tool may bring back only a few files.
finish() {
  tar -C /tmp -czf "$out/logs.tar.gz" logs
  tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
  say "done; everything also in $out.tar.gz"
  exit 0
}

if [ "$plan" = finetune ]; then
  enc=models/weights/encoder-cnn.svm
  run train --data data/packs/natural.pack --encoder $enc --init models/weights/sid-natural.svm --lr 1e-4 \
    -o "$w/sid-natural.svm" --device "$dev" --epochs 1000 --minutes "$(mins 10 0.9)"
  run train --data data/packs/mnist.pack --encoder $enc --init models/weights/sid-mnist.svm --lr 1e-4 \
    -o "$w/sid-mnist.svm" --device "$dev" --epochs 1000 --images-per-epoch 8000 --minutes "$(mins 10 0.25)"
  finish
fi

if [ "$plan" = lite ]; then
  enc=models/weights/encoder-cnn.svm
  m=$(mins 20 0.6)
  bg lite train --decoder sid-lite --data data/packs/natural.pack --encoder $enc \
    --init models/weights/sid-lite-natural.svm --lr 5e-4 --lr-schedule cosine \
    -o "$w/sid-lite-natural.svm" --device "$dev" --epochs 1000 --minutes "$m"
  bg wide train --decoder sid-lite --width 1024 --data data/packs/natural.pack --encoder $enc \
    --lr 1e-3 --lr-schedule cosine -o "$w/sid-lite-wide-natural.svm" --device "$dev" --epochs 1000 \
    --minutes "$m"
  wait
  summarize lite wide
  eval_natural sid-lite-natural sid-lite-wide-natural
  finish
fi

if [ "$plan" = improve ]; then
  enc=models/weights/encoder-cnn.svm
  m=$(mins 20 1.0)
  bg natural train --data data/packs/natural.pack --encoder $enc --init models/weights/sid-natural.svm \
    --lr 1e-3 --lr-schedule cosine -o "$w/sid-natural.svm" --device "$dev" --epochs 1000 --minutes "$m"
  bg lite train --decoder sid-lite --data data/packs/natural.pack --encoder $enc --lr 1e-3 \
    --lr-schedule cosine -o "$w/sid-lite-natural.svm" --device "$dev" --epochs 1000 --minutes "$m"
  bg mnist train --data data/packs/mnist.pack --encoder $enc --init models/weights/sid-mnist.svm \
    --lr 3e-4 --lr-schedule cosine -o "$w/sid-mnist.svm" --device "$dev" --epochs 1000 \
    --images-per-epoch 8000 --minutes "$(mins 4 1.0)"
  wait
  summarize natural lite mnist
  eval_natural sid-natural sid-lite-natural
  [ -f "$w/sid-mnist.svm" ] && run eval --data data/packs/mnist.pack --encoder $enc --sid "$w/sid-mnist.svm" \
    --linear none --device "$dev" --json /tmp/logs/sid-mnist-test.json
  finish
fi

run fit-encoder --data data/packs/natural.pack -o "$w/encoder-cnn.svm" --device "$dev" --batch 256 \
  --epochs 1000 --images-per-epoch 20000 --minutes "$(mins 1.3 5.2)"
run train --data data/packs/natural.pack --encoder "$w/encoder-cnn.svm" -o "$w/sid-natural.svm" --device "$dev" \
  --epochs 1000 --checkpoints /tmp/ck-natural --minutes "$(mins 3.6 1.6)"
run train --data data/packs/mnist.pack --encoder "$w/encoder-cnn.svm" -o "$w/sid-mnist.svm" --device "$dev" \
  --epochs 1000 --images-per-epoch 8000 --checkpoints /tmp/ck-mnist --minutes "$(mins 1.0 0.5)"
mkdir -p /tmp/scores
run eval --data data/packs/natural.pack --encoder "$w/encoder-cnn.svm" --sid "$w/sid-natural.svm" --linear none \
  --device "$dev" --json /tmp/scores/natural.json
run eval --data data/packs/mnist.pack --encoder "$w/encoder-cnn.svm" --sid "$w/sid-mnist.svm" --linear none \
  --device "$dev" --json /tmp/scores/mnist.json
run eval --data data/packs/mnist.pack --encoder "$w/encoder-cnn.svm" --sid "$w/sid-natural.svm" --linear none \
  --device "$dev" --json /tmp/scores/natural-on-mnist.json
# Quality against cell count, with the parametric retina as the encoder and
# equal short budgets, so only the count differs.
for g in 16 24 32; do
  m=$(mins 0.5 0.15)
  python3 -c "import sys; sys.exit(0 if $m >= 0.2 else 1)" || { say "no time left for grid $g"; break; }
  run train --data data/packs/natural.pack --encoder "retina:grid=$g" -o "/tmp/sid-grid$g.svm" --device "$dev" \
    --epochs 1000 --minutes "$m"
  run eval --data data/packs/natural.pack --encoder "retina:grid=$g" --sid "/tmp/sid-grid$g.svm" --linear none \
    --device "$dev" --json "/tmp/scores/grid$g.json"
done
tar -C /tmp -czf "$out/scores.tar.gz" scores ck-natural/state.json ck-mnist/state.json 2>/dev/null
finish
