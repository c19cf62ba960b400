#!/usr/bin/env bash
# The video commands end to end, as a user runs them: transcode, encode then
# decode (the same frames), Ctrl-C (outputs finalized, exit 130), live on the
# test pattern, and bad input (one line, the documented exit code).
#   video_cli_test.sh SPIKEVID
set -u
sv=$1
tmp=$(mktemp -d)
trap 'umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # fail, expect
# Gray frames of a video, raw, for exact comparison.
raw() { gst-launch-1.0 -q filesrc location="$1" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! filesink location="$2"; }
frames_of() { "$sv" info "$1" | sed -n 's/.* \([0-9]*\) frames$/\1/p'; }

gst-launch-1.0 -q videotestsrc num-buffers=24 pattern=ball ! video/x-raw,width=160,height=120,framerate=24/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/in.mp4" || fail "cannot make the input video"

# transcode, lossless: every frame out, spikes kept.
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/t.mp4" --view reconstruction --spikes "$tmp/t.h5" --seed 7 \
  --threads 2
[ "$(frames_of "$tmp/t.mp4")" = 24 ] || fail "transcode wrote $(frames_of "$tmp/t.mp4") frames, not 24"
"$sv" info "$tmp/t.h5" | grep -q "24 frames of 2048 cells" || fail "spike file of transcode"
grep -q "end to end" "$tmp/out" || fail "no latency table"

# encode then decode: the frames transcode gave, with the decode stage on the same
# number of threads (--threads auto splits the cores by a timing, and a float sum
# over another split rounds differently: the temporal decoder's reset at a scene
# cut can then go the other way).
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/e.h5" --seed 7
expect 0 "$sv" decode "$tmp/e.h5" -o "$tmp/d.mp4" --threads 2
raw "$tmp/t.mp4" "$tmp/t.raw" && raw "$tmp/d.mp4" "$tmp/d.raw" || fail "cannot decode the outputs"
cmp -s "$tmp/t.raw" "$tmp/d.raw" || fail "encode+decode frames differ from transcode's"
# The same in float32, batch 8: offline batches are always full, so which
# frames share a model call (and oneDNN's float32 rounding) does not depend
# on timing.
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/t32.mp4" --view reconstruction --seed 7 --precision float32 \
  --threads 2
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/e32.h5" --seed 7 --precision float32
expect 0 "$sv" decode "$tmp/e32.h5" -o "$tmp/d32.mp4" --precision float32 --threads 2
raw "$tmp/t32.mp4" "$tmp/t32.raw" && raw "$tmp/d32.mp4" "$tmp/d32.raw" || fail "cannot decode the float32 outputs"
cmp -s "$tmp/t32.raw" "$tmp/d32.raw" || fail "float32: encode+decode frames differ from transcode's"

# The video commands' default is a temporal decoder (a state carried from frame
# to frame; above: encode then decode still gives transcode's frames). The
# frame-by-frame decoder, asked for, does the same, and gives other frames (the
# state is at work).
gru=models/weights/sid-lite-gru-natural.svm lite=models/weights/sid-lite-natural.svm
"$sv" transcode --help | grep -q "default: SID-lite-GRU" || fail "transcode --help does not name the default decoder"
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/tl.mp4" --view reconstruction --seed 7 --decoder "$lite"
expect 0 "$sv" decode "$tmp/e.h5" -o "$tmp/dl.mp4" --decoder "$lite"
raw "$tmp/tl.mp4" "$tmp/tl.raw" && raw "$tmp/dl.mp4" "$tmp/dl.raw" || fail "cannot decode the SID-lite outputs"
cmp -s "$tmp/tl.raw" "$tmp/dl.raw" || fail "SID-lite: encode+decode frames differ from transcode's"
cmp -s "$tmp/tl.raw" "$tmp/t.raw" && fail "the default decoder gives SID-lite's frames, not a temporal decoder's"
expect 2 "$sv" bench --frames 30 --decoder "$gru" --decode-workers 2
grep -q "temporal" "$tmp/err" || fail "temporal with two decode workers: no one-line reason"
# set-filter: the output filter (a motion-gated average of the images) written into a
# copy of the model, its tensors kept; the filtered decoder through encode+decode =
# transcode as well; off gives other frames; bad settings: one line, exit 2.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cp "$root/models/weights/sid-lite-gru-natural.svm" "$root/models/weights/linear-scenes.svm" \
  "$root/models/weights/sid-lite-natural.svm" "$tmp/" || fail "cannot copy the models"
gf="$tmp/sid-lite-gru-natural.svm"
expect 0 "$sv" set-filter "$gf" 0.25,0.03,0.12,0.08
"$sv" info "$gf" | grep -q '"output_filter"' || fail "set-filter: info does not show the filter"
"$sv" info "$gf" | grep -q '"cut": 0.08' || fail "set-filter: info does not show the cut threshold"
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/tf.mp4" --view reconstruction --seed 7 --decoder "$gf" \
  --threads 2
expect 0 "$sv" decode "$tmp/e.h5" -o "$tmp/df.mp4" --decoder "$gf" --threads 2
raw "$tmp/tf.mp4" "$tmp/tf.raw" && raw "$tmp/df.mp4" "$tmp/df.raw" || fail "cannot decode the filtered outputs"
cmp -s "$tmp/tf.raw" "$tmp/df.raw" || fail "filtered: encode+decode frames differ from transcode's"
cmp -s "$tmp/tf.raw" "$tmp/t.raw" || fail "the default decoder is not the shipped GRU with its filter"
expect 0 "$sv" set-filter "$gf" off
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/to.mp4" --view reconstruction --seed 7 --decoder "$gf" \
  --threads 2
raw "$tmp/to.mp4" "$tmp/to.raw" || fail "cannot decode the unfiltered output"
cmp -s "$tmp/tf.raw" "$tmp/to.raw" && fail "set-filter off: the same frames as with the filter"
before=$(md5sum < "$gf")
for bad in 0.25,0.03 1.5,0.03,0.1 0.2,0.1,0.05 0.2,x,0.1 0.25,0.03,0.12,1.5 0.25,0.03,0.12,0.08,1; do
  expect 2 "$sv" set-filter "$gf" "$bad"
done
[ "$(md5sum < "$gf")" = "$before" ] || fail "set-filter: a refused setting changed the file"
expect 1 "$sv" set-filter "$tmp/sid-lite-natural.svm" off
grep -q "only sid-lite-gru" "$tmp/err" || fail "set-filter on a sid-lite: no one-line reason"

# Spikes over the network: stream_cli_test.sh.

# From another folder: the shipped models are found in the program's checkout.
(cd "$tmp" && expect 0 "$sv" transcode in.mp4 -o from-elsewhere.mp4 --frames 2) || exit 1

# Tiles and the side-by-side view, in mkv.
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/tiles.mkv" --tiles 2x3 --frames 6
[ "$(frames_of "$tmp/tiles.mkv")" = 6 ] || fail "tiled transcode"

# Outputs are written as NAME.part-PID and renamed into place when finalized.
# wait_for_growth FILE: until FILE's .part file has grown 20 kB past the size
# it was first seen at (frames are being written), however loaded the machine.
# Growth, not size: an empty spike file is already 39 kB, and a SIGTERM before
# its first frame rightly leaves no file (a run that wrote nothing).
wait_for_growth() {
  local part size first=""
  for _ in $(seq 240); do
    for part in "$1".part-*; do
      size=$(stat -c %s "$part" 2>/dev/null) || continue
      [ -z "$first" ] && first=$size
      [ "$size" -gt $((first + 20000)) ] && return 0
    done
    sleep 0.25
  done
}

# Ctrl-C: exit 130, the mp4 plays, the spike file holds what was written. The
# input is 2 minutes long: with the default bfloat16, batch 8 and two decode
# workers 900 frames took about 3 s, short enough to end before a loaded
# machine saw the output grow.
gst-launch-1.0 -q videotestsrc num-buffers=3600 ! video/x-raw,width=160,height=120,framerate=30/1 \
  ! videoconvert ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$tmp/long.mp4"
"$sv" transcode "$tmp/long.mp4" -o "$tmp/cut.mp4" --spikes "$tmp/cut.h5" >"$tmp/out" 2>&1 &
pid=$!
wait_for_growth "$tmp/cut.mp4"
kill -INT $pid
wait $pid
code=$?
[ "$code" = 130 ] || fail "Ctrl-C: exit $code, expected 130"
grep -q "end to end" "$tmp/out" || fail "Ctrl-C: no latency table"
n=$(frames_of "$tmp/cut.mp4")
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 3600 ] || fail "Ctrl-C: the mp4 has '$n' frames"
"$sv" info "$tmp/cut.h5" | grep -q "frames of 2048 cells" || fail "Ctrl-C: spike file unreadable"
ls "$tmp"/cut.*.part-* >/dev/null 2>&1 && fail "Ctrl-C: a .part file was left behind"

# SIGTERM during encode and decode: exit 143, the outputs whole.
"$sv" encode "$tmp/long.mp4" -o "$tmp/term.h5" >/dev/null 2>&1 &
pid=$!
wait_for_growth "$tmp/term.h5"
kill -TERM $pid; wait $pid; code=$?
[ "$code" = 143 ] || fail "SIGTERM encode: exit $code, expected 143"
"$sv" info "$tmp/term.h5" | grep -q "frames of 2048 cells" || fail "SIGTERM: spike file unreadable"
"$sv" decode "$tmp/cut.h5" -o "$tmp/term.mp4" >/dev/null 2>&1 &
pid=$!
wait_for_growth "$tmp/term.mp4"
kill -TERM $pid; wait $pid; code=$?
[ "$code" = 143 ] || [ "$code" = 0 ] || fail "SIGTERM decode: exit $code"
[ "$(frames_of "$tmp/term.mp4")" -gt 0 ] || fail "SIGTERM decode: the mp4 does not play"
# A second Ctrl-C exits at once (the default action: killed by SIGINT).
"$sv" transcode "$tmp/long.mp4" -o "$tmp/twice.mp4" >/dev/null 2>&1 &
pid=$!
wait_for_growth "$tmp/twice.mp4"
kill -INT $pid; kill -INT $pid; wait $pid; code=$?
[ "$code" = 130 ] || fail "second Ctrl-C: exit $code, expected 130"

# SIGKILL: nothing is renamed, but the .part files play and read as far as they were written.
"$sv" transcode "$tmp/long.mp4" -o "$tmp/killed.mp4" --spikes "$tmp/killed.h5" >/dev/null 2>&1 &
pid=$!
wait_for_growth "$tmp/killed.mp4"
sleep 2  # past the first one-second fragment
kill -KILL $pid; wait $pid
[ -e "$tmp/killed.mp4" ] && fail "SIGKILL: the output was renamed into place"
part=$(ls "$tmp"/killed.mp4.part-* 2>/dev/null | head -n 1)
[ -n "$part" ] && [ "$(frames_of "$part")" -gt 0 ] || fail "SIGKILL: the .part mp4 does not play"
"$sv" info "$(ls "$tmp"/killed.h5.part-* | head -n 1)" | grep -q "frames of 2048 cells" \
  || fail "SIGKILL: the .part spike file is unreadable"

# Data that must never be lost: an output that is the input (also through a
# link) is refused before anything is written, and the input is untouched.
cp "$tmp/in.mp4" "$tmp/same.mp4"
sum=$(md5sum <"$tmp/same.mp4")
expect 1 "$sv" transcode "$tmp/same.mp4" -o "$tmp/same.mp4"
grep -q "is the input" "$tmp/err" || fail "output = input: $(cat "$tmp/err")"
ln -s same.mp4 "$tmp/alias.mp4"
expect 1 "$sv" transcode "$tmp/same.mp4" -o "$tmp/alias.mp4"
expect 1 "$sv" decode "$tmp/t.h5" -o "$tmp/t.h5"
expect 1 "$sv" transcode "$tmp/same.mp4" -o "$tmp/x.mp4" --stats "$tmp/same.mp4"
[ "$(md5sum <"$tmp/same.mp4")" = "$sum" ] || fail "output = input: the input changed"
# Two processes writing one spike file: one complete file, and a one-line error for the other.
"$sv" encode test -o "$tmp/two.h5" --frames 300 >/dev/null 2>&1 &  # 10 s: the live pattern's pace
pid=$!
wait_for_growth "$tmp/two.h5"
expect 1 "$sv" encode "$tmp/in.mp4" -o "$tmp/two.h5"
grep -q "another process is writing it" "$tmp/err" || fail "second writer: $(cat "$tmp/err")"
wait $pid || fail "first writer failed"
"$sv" info "$tmp/two.h5" | grep -q "300 frames of 2048 cells" || fail "two writers: damaged file"

# live on the test pattern, to a file, no window; the camera's own drops in the report.
expect 0 "$sv" live test -o "$tmp/live.mp4" --no-window --frames 20 --stats "$tmp/live.json"
[ "$(frames_of "$tmp/live.mp4")" -ge 1 ] || fail "live wrote no frames"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["edges"][0]; assert e["name"]=="camera->capture" and e["pushed"]>=20 and e["pushed"]==e["popped"]+e["dropped"], e' \
  "$tmp/live.json" || fail "live: the camera's edge is not in the report"
expect 2 "$sv" live test -o "$tmp/x.mp4" --no-window --frames 5 --batch 4
DISPLAY= WAYLAND_DISPLAY= expect 1 "$sv" live test

# Bad input: one line, exit 1 (runtime) or 2 (usage).
expect 1 "$sv" transcode "$tmp/missing.mp4" -o "$tmp/x.mp4"
expect 1 "$sv" transcode "$tmp" -o "$tmp/x.mp4"
head -c 20000 /dev/urandom >"$tmp/junk.mp4"
expect 1 "$sv" transcode "$tmp/junk.mp4" -o "$tmp/x.mp4"
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/no/such/dir/x.mp4"
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.avi"
expect 2 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --tiles 3by4
expect 2 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --batch 0
expect 1 "$sv" live /dev/video97
expect 1 "$sv" decode "$tmp/in.mp4" -o "$tmp/x.mp4"
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/retina.h5" --encoder retina --frames 2
# bfloat16 through the whole transcode; the retina encoder takes it too (and stays float32).
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/bf16.mp4" --precision bfloat16 --frames 4
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/retina-bf16.h5" --encoder retina --frames 2 --precision bfloat16
expect 1 "$sv" decode "$tmp/retina.h5" -o "$tmp/x.mp4"
head -c 3000 "$tmp/t.h5" >"$tmp/cut-short.h5"
expect 1 "$sv" decode "$tmp/cut-short.h5" -o "$tmp/x.mp4"
# Truncated, empty, unconvertible and stalled inputs.
head -c $(( $(stat -c %s "$tmp/long.mp4") / 2 )) "$tmp/long.mp4" >"$tmp/half.mp4"
expect 1 "$sv" transcode "$tmp/half.mp4" -o "$tmp/x.mp4"
expect 1 "$sv" transcode "gst:videotestsrc num-buffers=0 ! videoconvert ! appsink" -o "$tmp/x.mp4"
expect 1 "$sv" transcode "gst:videotestsrc num-buffers=3 ! video/x-bayer,format=rggb,width=64,height=64 ! appsink" -o "$tmp/x.mp4"
grep -q "unsupported pixel format" "$tmp/err" || fail "bayer: $(cat "$tmp/err")"
expect 1 "$sv" transcode "gst:videotestsrc is-live=true ! identity sleep-time=3000000 ! videoconvert ! appsink" \
  -o "$tmp/x.mp4" --stall-timeout 1
grep -q "stalled source" "$tmp/err" || fail "stall: $(cat "$tmp/err")"
# Frames that change size midway: every frame is cropped and resized on its own.
mkdir -p "$tmp/sizes"
gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=320,height=240 ! pngenc ! filesink location="$tmp/sizes/a.png"
gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=100,height=300 ! pngenc ! filesink location="$tmp/sizes/b.png"
expect 0 "$sv" transcode "$tmp/sizes" -o "$tmp/sizes.mp4"
[ "$(frames_of "$tmp/sizes.mp4")" = 2 ] || fail "size change midway"
# Model files: missing, truncated, of the wrong kind.
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --decoder "$tmp/missing.svm"
head -c 100000 models/weights/sid-lite-natural.svm >"$tmp/cut.svm"
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --decoder "$tmp/cut.svm"
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --decoder models/weights/encoder-cnn.svm
expect 1 "$sv" transcode "$tmp/in.mp4" -o "$tmp/x.mp4" --encoder retina:grid=16
# The disk fills up while writing: a 96 kB tmpfs, where the machine allows mounting one.
mkdir -p "$tmp/small"
if mount -t tmpfs -o size=96k tmpfs "$tmp/small" 2>/dev/null; then
  expect 1 "$sv" transcode "$tmp/long.mp4" -o "$tmp/small/full.mp4"
  umount "$tmp/small"
else
  echo "(disk-full check skipped: cannot mount a tmpfs here)"
fi
echo "video CLI: all passed"
