#!/usr/bin/env bash
# How many streams one `spikevid serve` holds (issue 16): N senders, played by
# one `spikevid encode S.h5 --to srt://... --streams N` process (N SRT
# connections, a stream id each; one process, so N program start-ups do not
# eat the two cores while the streams run), replaying a spike file of the street
# video (one 64x64 tile; the 10 frames/s video brought to 30 by GStreamer's
# videorate, fresh spikes every frame; 900 frames, 30 s) at its own pace,
# into one serve (the default SID-lite, bfloat16 where recorded, one tile a
# stream), once writing an mp4 per stream and once with no outputs. Per N:
# frames received, lost, written, and the worst stream's p99 latency (message
# taken off the transport to frame written; each stream's first 150 frames,
# 5 s, left out: the senders start meanwhile).
#   [MODES="mp4 none"] bench/serve.sh [OUT_DIR] [N ...]    (about 50 s a point; a quiet machine)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=${SPIKEVID:-build/tools/spikevid}  # SPIKEVID=another build: the same runs with it
R=${1:-bench/results/serve-cpu-$(date -u +%F)}
shift || true
counts=("$@"); [ ${#counts[@]} = 0 ] && counts=(8 16 24 32 40 48)
mkdir -p "$R"
spikes=$R/street.h5
[ -e "$spikes" ] || $S encode "gst:filesrc location=data/video/vtest.avi ! decodebin ! videoconvert ! videorate ! video/x-raw,framerate=30/1 ! videoconvert ! appsink" \
  -o "$spikes" --seed 1 --frames 900 >/dev/null 2>&1 || { echo "cannot encode the street video (tools/fetch-data)"; exit 1; }
free_base() {  # N free consecutive UDP ports
  python3 -c '
import socket, sys
n = int(sys.argv[1])
for _ in range(500):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    if p + n > 65535: continue
    try:
        ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n - 1)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", p + 1 + i))
        print(p); break
    except OSError: pass' "$1"
}
date -u
for outputs in ${MODES:-mp4 none}; do
  for n in "${counts[@]}"; do
    base=$(free_base "$n")
    name=$R/serve-$outputs-$n
    rm -rf "$name.d"; mkdir -p "$name.d"
    o=(); [ $outputs = mp4 ] && o=(-o "$name.d/stream-%02d.mp4")
    $S serve --listen "srt://127.0.0.1:$base" --streams "$n" "${o[@]}" --idle-timeout 15 \
      --warmup 150 --stats "$name.json" > "$name.txt" 2>&1 &
    server=$!
    for _ in $(seq 300); do grep -q "^serve:" "$name.txt" 2>/dev/null && break; sleep 0.1; done  # listening
    $S encode "$spikes" --to "srt://127.0.0.1:$base" --streams "$n" > "$name-senders.txt" 2>&1
    wait $server
    rm -rf "$name.d"  # the videos: a few MB each, not kept
    python3 - "$name.json" "$n" "$outputs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
s = d["streams"]
came = sum(x["started"] for x in s)
frames = sum(x["frames"] for x in s); lost = sum(x["lost"] for x in s); written = sum(x["written"] for x in s)
p99 = max(x["latency_ms"]["p99"] for x in s); p50 = sorted(x["latency_ms"]["p50"] for x in s)[len(s) // 2]
print(f"serve {sys.argv[3]:>4} streams {n:3d}: came {came:3d}, frames {frames:6d}, lost {lost:5d}, written {written:6d}, "
      f"median stream p50 {p50:7.2f} ms, worst stream p99 {p99:8.2f} ms, mean batch {d['frames_decoded'] / max(1, d['decoder_calls']):5.2f}, "
      f"peak RSS {d['peak_rss_mb']:.0f} MB")
PY
  done
done | tee -a "$R/summary.txt"
date -u
