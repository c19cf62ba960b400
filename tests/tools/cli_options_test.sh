#!/usr/bin/env bash
# Every option of every subcommand given an invalid value: exit 2 (a usage
# error) and exactly one line on stderr, before any input is opened.
#   cli_options_test.sh SPIKEVID
set -u
sv=$1
in=README.md  # an existing file: the bad option must be caught before it is read
out=$(mktemp -d)/x
trap 'rm -rf "$(dirname "$out")"' EXIT
failed=0
check() {  # ARGS...
  "$sv" "$@" >/dev/null 2>"$out.err"
  local got=$? lines
  lines=$(grep -c . "$out.err")
  if [ "$got" != 2 ] || [ "$lines" != 1 ]; then
    echo "FAIL: spikevid $* -> exit $got, $lines lines: $(head -3 "$out.err")" >&2
    failed=1
  fi
}
video_common=(--frames -1 --batch 0 --batch 2000 --capacity 0 --warmup -1 --device tpu
              --threads -1 --bins 0 --bins 65 --tiles 0x1 --tiles 3by4 --tiles 40x1
              --stall-timeout -1 --seed -5 --view mosaic --precision float64 --bogus 1)
for cmd in transcode live encode; do
  for ((i = 0; i < ${#video_common[@]}; i += 2)); do
    opt=${video_common[i]} val=${video_common[i + 1]}
    [ "$cmd" = encode ] && [ "$opt" = --view ] && continue
    if [ "$opt" = --bogus ]; then check "$cmd" "$in" -o "$out.mp4" --bogus; continue; fi
    check "$cmd" "$in" -o "$out.mp4" "$opt" "$val"
  done
done
for a in "--frames -1" "--batch 0" "--view mosaic" "--device tpu" "--threads -3" "--capacity 0" \
         "--precision half"; do
  check decode "$in" -o "$out.mp4" $a
done
check transcode "$in"  # -o missing
check decode           # the spike file missing
for a in "--streams 0" "--streams 2000" "--batch 0" "--precision float16" "--idle-timeout 0" \
         "--tiles 3by4" "--device tpu" "--threads -1" "-o $out-%s.mp4" "-o $out-%d-%d.mp4"; do
  check serve --listen "rtp://127.0.0.1:9" $a
done
check serve            # --listen missing
check encode "$out.h5" -o "$out-2.h5" --to rtp://127.0.0.1:9  # a spike file is sent, not copied
for a in "--mode fast" "--fps 0" "--frames -1" "--frames 20" "--batch 0" "--threads 0.5" \
         "--threads some" "--decode-workers -1" "--tiles 3by4" "--device tpu" "--soak -1" "--warmup -1" "--precision half" "--precision float16" \
         "--cuda-graphs yes" "--cuda-graphs on"; do
  check bench $a
done
for a in "--frames 0" "--fps -1" "--batch 0" "--capacity 0" "--overflow leaky" "--device gpu"; do
  check synthetic $a
done
for a in "--decoder unet" "--epochs 0" "--batch 1" "--lr 0" "--lr-schedule step" "--minutes -1" \
         "--images-per-epoch 1" "--bins 0" "--max-fraction 2" "--val-count 1" "--device tpu" \
         "--checkpoint-minutes 0" "--width 0" "--width 64"; do
  check train --data "$in" -o "$out.svm" $a
done
check train -o "$out.svm"  # --data missing
for a in "--precision float32" "--precision half" "--count -1" "--device tpu"; do
  check check-precision --data "$in" $a
done
check check-precision  # --data missing
for a in "--precision fast" "--batch some" "--batch -1"; do
  check transcode "$in" -o "$out.mp4" $a
done
for a in "--grid 0" "--channels 0" "--epochs 0" "--batch 1" "--lr 2" "--minutes -1"; do
  check fit-encoder --data "$in" -o "$out.svm" $a
done
for a in "--count -1" "--device tpu" "--precision half"; do
  check eval --data "$in" $a
done
check export                         # --torchscript missing
check export --torchscript "$out" --bogus 1
check relink "$in" -o "$out.svm"     # --ridge-path missing
check relink /nonexistent/x.svm --ridge-path "$in" -o "$out.svm"
check info
check info /nonexistent/file
check pack-data nonsense -o "$out.pack"
check
# A report named as one of the inputs: refused (exit 1, one line) before anything is read or written.
cp "$in" "$out.copy"
for cmd in "check-precision --data $out.copy --json $out.copy" "eval --data $out.copy --json $out.copy"; do
  $sv $cmd >/dev/null 2>"$out.err"
  got=$?
  if [ "$got" != 1 ] || ! grep -q "is the input" "$out.err" || ! cmp -s "$in" "$out.copy"; then
    echo "FAIL: spikevid $cmd -> exit $got: $(head -3 "$out.err")" >&2
    failed=1
  fi
done
[ $failed = 0 ] && echo "CLI options: all invalid values refused with one line, exit 2"
exit $failed
