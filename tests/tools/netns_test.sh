#!/usr/bin/env bash
# Spikes across a bad network: two network namespaces joined by a veth pair,
# the sender in one, the receiver in the other behind `spikevid relay`, which
# adds 15-25 ms of delay and drops 1 % of the datagrams, each way (GStreamer's
# netsim; this kernel has no netem). Over RTP the losses are counted drops and
# the receiver never stalls; over SRT with a latency of 200 ms (5 round trips
# of about 40 ms) no frame is lost and the video is the spike file's, bit for
# bit. Then bench --mode network across the same namespaces, for the figures.
# Makes and removes its namespaces; needs root (exit 77, skipped, without).
#   netns_test.sh SPIKEVID [BENCH_JSON]
set -u
sv=$1
json_out=${2:-}
a=spkA$$ b=spkB$$
tmp=$(mktemp -d)
pids=()
pair=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/netns-pair
cleanup() {
  kill "${pids[@]}" 2>/dev/null
  "$pair" down "$a" "$b"
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # fail, expect

if ! ip netns add "$a" 2>/dev/null; then
  echo "netns_test: cannot make a network namespace here (root and iproute2 needed): skipped"
  exit 77
fi
ip netns del "$a"
"$pair" up "$a" "$b" || fail "tools/netns-pair up $a $b failed"
veth=$(ip -n "$a" -o link show type veth | sed -n 's/^[0-9]*: \([^@:]*\).*/\1/p')
[ -n "$veth" ] || fail "no veth in $a"

# 300 frames at 30 frames/s: a 10 s replay.
gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=ball ! video/x-raw,width=160,height=120,framerate=30/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/in.mp4" || fail "cannot make the input video"
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/s.h5" --seed 3
# The frame-by-frame decoder, the cheapest: this test is about the transport.
# A receiver that falls behind (these 2 cores shared with the sender, the relay
# and, without RUN_SERIAL, another test) makes SRT's sender drop what it still
# holds when it closes.
dec=(--decoder models/weights/sid-lite-natural.svm)
expect 0 "$sv" decode "$tmp/s.h5" -o "$tmp/want.mp4" "${dec[@]}"
raw() { gst-launch-1.0 -q filesrc location="$1" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! filesink location="$2"; }
raw "$tmp/want.mp4" "$tmp/want.raw" || fail "cannot decode the reference"
tx_bytes() { ip -n "$a" -s link show "$veth" | awk '/TX:/ {getline; print $1}'; }

# One stream through the relay: decode and relay in b, encode (a replay) in a.
run() {  # SCHEME RECEIVER_URI SENDER_URI
  local scheme=$1
  ip netns exec "$b" "$sv" relay --listen 10.213.0.2:7100 --to 127.0.0.1:7001 --netsim 15-25,0.01 \
    >"$tmp/relay-$scheme.out" 2>&1 &
  local relay=$!; pids+=($relay)
  ip netns exec "$b" "$sv" decode "$2" -o "$tmp/$scheme.mp4" --idle-timeout 5 "${dec[@]}" >"$tmp/$scheme.out" 2>&1 &
  local rx=$!; pids+=($rx)
  wait_for "$tmp/relay-$scheme.out" "Ctrl-C to stop"
  wait_for "$tmp/$scheme.out" ": listening"
  local before; before=$(tx_bytes)
  ip netns exec "$a" "$sv" encode "$tmp/s.h5" --to "$3" >"$tmp/$scheme-tx.out" 2>&1 ||
    { cat "$tmp/$scheme-tx.out" >&2; fail "$scheme: encode --to $3 failed"; }
  # Never a stall: the receiver ends at the end of stream, or 5 s after the
  # last message if the end itself was lost.
  local waited=0
  while kill -0 $rx 2>/dev/null && [ $waited -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
  kill -0 $rx 2>/dev/null && fail "$scheme: the receiver is still running 30 s after the sender ended"
  wait $rx || { cat "$tmp/$scheme.out" >&2; fail "$scheme: decode exited $?"; }
  kill -INT $relay; wait $relay
  local sent=$(( $(tx_bytes) - before ))
  [ "$sent" -gt 50000 ] || fail "$scheme: only $sent bytes crossed the veth pair"
  echo "netns_test $scheme: $(grep '^stream:' "$tmp/$scheme.out"); $(grep '^relay:' "$tmp/relay-$scheme.out"); $sent bytes over the veth"
}

run rtp rtp://127.0.0.1:7001 rtp://10.213.0.2:7100
line=$(grep '^stream:' "$tmp/rtp.out") || fail "rtp: decode printed no stream line"
got=$(sed -n 's/^stream: \([0-9]*\) frames received, \([0-9]*\) lost.*/\1/p' <<<"$line")
lost=$(sed -n 's/^stream: \([0-9]*\) frames received, \([0-9]*\) lost.*/\2/p' <<<"$line")
[ -n "$got" ] && [ -n "$lost" ] || fail "rtp: cannot read '$line'"
# About 1 % of single-packet frames lost; every loss that a later frame
# reveals is counted, so received + lost is 300 (less only when the last
# frames and the end of stream were lost together).
[ "$got" -ge 270 ] && [ "$got" -lt 300 -o "$lost" -eq 0 ] || fail "rtp: $line"
[ $((got + lost)) -le 300 ] && [ $((got + lost)) -ge 295 ] || fail "rtp: received + lost is not the frames sent: $line"

run srt "srt://:7001?latency=200" "srt://10.213.0.2:7100?latency=200"
grep -q '^stream: 300 frames received, 0 lost' "$tmp/srt.out" || { cat "$tmp/srt.out" >&2; fail "srt: a frame was lost"; }
raw "$tmp/srt.mp4" "$tmp/srt.raw" || fail "cannot decode the srt output"
cmp -s "$tmp/want.raw" "$tmp/srt.raw" || fail "srt: the received video is not the spike file's"

# The figures: each frame's added latency on one clock (bench sends from a
# thread in a, receives in b), bytes a second, frames lost.
args=(bench --mode network --source "$tmp/in.mp4" --frames 300 --transport rtp,srt --srt-latency 200
  --netns "$a,$b" --receiver-address 10.213.0.2 --netsim 15-25,0.01 --json "$tmp/bench.json")
"$sv" "${args[@]}" >"$tmp/bench.out" 2>&1 || { cat "$tmp/bench.out" >&2; fail "bench --mode network --netns failed"; }
grep '^network:' "$tmp/bench.out"
python3 - "$tmp/bench.json" <<'EOF' || fail "bench across the namespaces: see above"
import json, sys
runs = json.load(open(sys.argv[1]))["network"]["runs"]
ok = True
for r in runs:
    relay = r["relay"]["datagrams_forward"]
    if relay["in"] == 0 or relay["out"] > relay["in"]:
        print("relay counts make no sense:", r); ok = False
    if r["uri"].startswith("srt") and r["lost"] != 0:
        print("srt lost frames:", r["uri"], r["lost"]); ok = False
    if r["uri"].startswith("rtp") and r["frames_received"] < 270:
        print("rtp lost more than 10 %:", r["frames_received"]); ok = False
    if r["latency_ms"]["p50"] < 15:
        print("added latency below the relay's delay: did the datagrams go through it?", r["latency_ms"]); ok = False
sys.exit(0 if ok else 1)
EOF
[ -n "$json_out" ] && cp "$tmp/bench.json" "$json_out"
echo "netns_test: passed"
