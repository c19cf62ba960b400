#!/usr/bin/env bash
# The GPU benchmark, as it is: builds `spikevid` against the CUDA LibTorch of
# this machine's PyTorch install and runs a fixed sweep (about 3 minutes on an
# H100) on synthetic frames, with the CUDA path (stages/gpu_lane.h). Everything
# lands in OUT_DIR (log.txt with every step's full tables, gpu.txt, build.txt,
# one JSON and one text per step) and in one archive, OUT_DIR.tar.gz: a device
# tool may bring back only a few files.
#
#   bench/gpu.sh [OUT_DIR]          (default: out/gpu-bench)
#
# The build needs no OpenCV, GStreamer or HDF5: where their development files
# are missing it is a LibTorch-only build (synthetic frames, no --plot). It
# needs a C++ compiler, CMake, Ninja (or make), the CUDA toolkit that
# PyTorch's CMake files ask for, and the header-only CLI11, nlohmann json and
# Boost.Lockfree: the system's, or carried in .carry/include (made with
# tools/carry-headers where they are installed).
#
# The line measured is the one users run (stages/line.h); where OpenCV is
# missing (a LibTorch-only build) it runs without its compose stage (--view
# none), which bench/RESULTS.md prices on the CPU.
# The sweep (64×64 frames, the shipped CNN encoder and the paper's SID unless said):
#   1. realtime at 30 frames/s, batch 1, float32: without and with CUDA graphs;
#   2. offline throughput at batch 1, 8 and 64, float32 and float16, CUDA
#      graphs off and on (the matrix-product peak in each precision is
#      measured in the same run, and every run compares the GPU's
#      reconstruction of a fixed input with the CPU's);
#   3. SID-lite offline at batch 64;
#   4. 8×8 tiles (a 400×400 frame, 64 tiles of 64×64 overlapping by 16):
#      offline, then realtime at 60 frames/s.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-out/gpu-bench}
mkdir -p "$out"
start=$(date +%s)
log="$out/log.txt"
: >"$log"
say() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$log"; }

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >"$out/gpu.txt" 2>&1
say "gpu: $(tail -n 1 "$out/gpu.txt")"
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
  { say "no PyTorch with a CUDA LibTorch here (python3 -c 'import torch' failed)"; exit 1; }
say "torch: $(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>&1 | tail -n 1)"

build=${SPIKEVID_GPU_BUILD:-build-gpu}
gen=Ninja
command -v ninja >/dev/null || gen="Unix Makefiles"
common=(-G "$gen" -DCMAKE_BUILD_TYPE=Release -DSPIKEVID_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$prefix"
        -DSPIKEVID_EXTRA_INCLUDE="$PWD/.carry/include")
if [ -x "$build/tools/spikevid" ] && [ "${SPIKEVID_GPU_REBUILD:-1}" = 0 ]; then
  say "using the existing $build"
else
  # The full build where OpenCV, GStreamer and HDF5 are; LibTorch alone otherwise.
  if cmake -S . -B "$build" "${common[@]}" -DSPIKEVID_LIBTORCH_ONLY=OFF >"$out/build.txt" 2>&1; then
    say "configured: full build"
  else
    rm -rf "$build"
    cmake -S . -B "$build" "${common[@]}" -DSPIKEVID_LIBTORCH_ONLY=ON >"$out/build.txt" 2>&1 ||
      { say "configure failed:"; tail -n 30 "$out/build.txt" | tee -a "$log"; exit 1; }
    say "configured: LibTorch only"
  fi
  grep -E "spikevid: |Boost headers" "$out/build.txt" | tee -a "$log"
  if ! cmake --build "$build" -j"$(nproc)" --target spikevid >>"$out/build.txt" 2>&1; then
    say "build failed:"; grep -E "error|Error" -A3 "$out/build.txt" | head -n 80 | tee -a "$log"; exit 1
  fi
fi
sv=$build/tools/spikevid
"$sv" bench --help 2>&1 | grep -q -- "--cuda-graphs" || { say "this build has no bench (Boost headers?)"; exit 1; }
say "built"

fail=0
sid=models/weights/sid-natural.svm
step() {  # step NAME ARGS...: one bench run, its JSON in OUT_DIR/NAME.json
  local name=$1; shift
  say "bench $name: $*"
  # A bound on each step, so a hung run cannot take the machine's whole lease.
  if ! timeout 150 "$sv" bench --device cuda --no-sequential "$@" --json "$out/$name.json" \
      >>"$out/$name.txt" 2>&1; then
    say "FAILED: $(tail -n 1 "$out/$name.txt")"; fail=1
  fi
  cat "$out/$name.txt" >>"$log"
}
step realtime-sid --decoder "$sid" --mode realtime --fps 30 --frames 450 --warmup 30 --cuda-graphs off,on
step offline-sid --decoder "$sid" --frames 6000 --warmup 200 --batch 1,8,64 --precision float32,float16 --cuda-graphs off,on
# The efficiency against the same stages one after another, once, at batch 8 and 64.
say "bench offline-sid-efficiency"
timeout 150 "$sv" bench --device cuda --decoder "$sid" --frames 4096 --warmup 200 --batch 8,64 --precision float16 --cuda-graphs on \
  --json "$out/offline-sid-efficiency.json" >>"$out/offline-sid-efficiency.txt" 2>&1 || fail=1
cat "$out/offline-sid-efficiency.txt" >>"$log"
step offline-lite --decoder models/weights/sid-lite-natural.svm --frames 6000 --warmup 200 --batch 64 \
  --precision float32,float16 --cuda-graphs on
step offline-tiles-8x8 --decoder "$sid" --tiles 8x8 --frames 600 --warmup 30 --batch 1 --precision float32,float16 --cuda-graphs on
step realtime-tiles-8x8 --decoder "$sid" --tiles 8x8 --mode realtime --fps 60 --frames 600 --warmup 30 --batch 1 \
  --precision float16 --cuda-graphs on
say "done in $(( $(date +%s) - start )) s; results in $out and $out.tar.gz"
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
exit $fail
