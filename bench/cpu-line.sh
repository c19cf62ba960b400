#!/usr/bin/env bash
# The CPU figures of the line users run, as in the README (bench/RESULTS.md, "The line on this CPU"):
# offline and realtime, 64x64 and 3x4 tiles, float32 and bfloat16, live at 1280x720, compose;
# every run with the default --threads auto (stages/line.h, ThreadPlan).
#   bench/cpu-line.sh [OUT_DIR]    (about 2 minutes; run it on a quiet machine)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=build/tools/spikevid
R=${1:-bench/results/line-cpu-$(date -u +%F)}
mkdir -p "$R"
lite=models/weights/sid-lite-natural.svm
sid=models/weights/sid-natural.svm
date -u
$S bench --mode offline --batch 8 --precision float32,bfloat16 --decoder $sid,$lite --frames 600 --json "$R"/offline-64.json > "$R"/offline-64.txt 2>&1
$S bench --mode realtime --fps 30 --precision float32,bfloat16 --decoder $lite --json "$R"/realtime-64.json > "$R"/realtime-64.txt 2>&1
$S bench --mode realtime --fps 30 --tiles 3x4 --precision float32,bfloat16 --decoder $lite --json "$R"/realtime-3x4.json > "$R"/realtime-3x4.txt 2>&1
$S live "gst:videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! videoconvert ! appsink" \
  --tiles 3x4 --precision bfloat16 --no-window -o "$R/live-hd.mp4" --frames 300 --stats "$R"/live-hd-3x4-bf16.json > "$R"/live-hd-3x4-bf16.txt 2>&1
echo "live rc=$?"
build/bench/compose_bench > "$R"/compose_bench.txt 2>&1
date -u
rm -f "$R/live-hd.mp4"
