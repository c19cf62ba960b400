#!/usr/bin/env bash
# decode streams its spike file: peak resident memory does not grow with the
# file's length. Two spike files of 2x2 tiles (8,192 cells), one ten times
# longer (300 and 3,000 frames: 10 and 98 MB of counts), are decoded; their
# peak memory (the --stats JSON's peak_rss_mb) must differ by less than 10 MB.
#   decode_memory_test.sh SPIKEVID
set -u
sv=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
gst-launch-1.0 -q videotestsrc num-buffers=3000 pattern=ball ! video/x-raw,width=96,height=96,framerate=30/1 \
  ! videoconvert ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$tmp/in.mp4" \
  || fail "cannot make the input video"
"$sv" encode "$tmp/in.mp4" -o "$tmp/long.h5" --tiles 2x2 >/dev/null 2>&1 || fail "encode (long)"
"$sv" encode "$tmp/in.mp4" -o "$tmp/short.h5" --tiles 2x2 --frames 300 >/dev/null 2>&1 || fail "encode (short)"
"$sv" info "$tmp/long.h5" | grep -q "3000 frames of 8192 cells" || fail "the long file: $("$sv" info "$tmp/long.h5")"
peak() {  # SPIKES: the decode's peak resident memory in MB
  "$sv" decode "$1" -o "$tmp/out.mp4" --stats "$tmp/stats.json" >/dev/null 2>&1 || fail "decode $1"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_mb"])' "$tmp/stats.json"
}
short=$(peak "$tmp/short.h5")
long=$(peak "$tmp/long.h5")
echo "decode peak memory: $short MB for 300 frames, $long MB for 3,000 frames"
python3 -c 'import sys; s, l = map(float, sys.argv[1:]); sys.exit(0 if abs(l - s) < 10 else 1)' "$short" "$long" \
  || fail "peak memory grew by more than 10 MB with the file's length ($short -> $long MB)"
echo "decode memory: passed"
