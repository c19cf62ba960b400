#!/usr/bin/env bash
# decode streams its spike file: peak resident memory does not grow with the
# file's length. Two spike files of 2x2 tiles (8,192 cells), one ten times
# longer (150 and 1,500 frames: 5 and 49 MB of counts), are decoded by the
# linear decoder (the cheapest: the test is about the reader, not the model);
# their peak memory (the --stats JSON's peak_rss_mb) must differ by less than
# 10 MB. Under AddressSanitizer (its quarantine keeps freed memory resident, so
# peak memory is not the program's) the files are ten times shorter and only
# the decodes are checked.
#   decode_memory_test.sh SPIKEVID
set -u
sv=$1
long_frames=1500 short_frames=150 compare=1
if ldd "$sv" 2>/dev/null | grep -q libasan; then long_frames=150 short_frames=15 compare=0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
gst-launch-1.0 -q videotestsrc num-buffers=$long_frames pattern=ball ! video/x-raw,width=96,height=96,framerate=30/1 \
  ! videoconvert ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$tmp/in.mp4" \
  || fail "cannot make the input video"
"$sv" encode "$tmp/in.mp4" -o "$tmp/long.h5" --tiles 2x2 >/dev/null 2>&1 || fail "encode (long)"
"$sv" encode "$tmp/in.mp4" -o "$tmp/short.h5" --tiles 2x2 --frames $short_frames >/dev/null 2>&1 || fail "encode (short)"
"$sv" info "$tmp/long.h5" | grep -q "$long_frames frames of 8192 cells" || fail "the long file: $("$sv" info "$tmp/long.h5")"
peak() {  # SPIKES: the decode's peak resident memory in MB
  "$sv" decode "$1" -o "$tmp/out.mp4" --decoder models/weights/linear-natural.svm --stats "$tmp/stats.json" >/dev/null 2>&1 || fail "decode $1"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_mb"])' "$tmp/stats.json"
}
short=$(peak "$tmp/short.h5")
long=$(peak "$tmp/long.h5")
echo "decode peak memory: $short MB for $short_frames frames, $long MB for $long_frames frames"
[ "$compare" = 1 ] || { echo "decode memory: decodes passed (AddressSanitizer build: peak memory not compared)"; exit 0; }
python3 -c 'import sys; s, l = map(float, sys.argv[1:]); sys.exit(0 if abs(l - s) < 10 else 1)' "$short" "$long" \
  || fail "peak memory grew by more than 10 MB with the file's length ($short -> $long MB)"
echo "decode memory: passed"
