#!/usr/bin/env bash
# Spikes over the network, as a user runs them: decode listens, encode sends
# (both transports, transcode's frames bit for bit); a spike file replayed at
# its own pace; a receiver that joins late; a sender killed and started again;
# serve with several streams; bad input (one line, the documented exit code).
# Loopback only; ports are the kernel's free ones.
#   stream_cli_test.sh SPIKEVID
set -u
sv=$1
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # fail, expect
raw() { gst-launch-1.0 -q filesrc location="$1" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! filesink location="$2"; }
frames_of() { "$sv" info "$1" | sed -n 's/.* \([0-9]*\) frames$/\1/p'; }
# A UDP port nobody holds now, the kernel's choice (not one made from $$,
# which could meet another test's running beside it).
free_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Two free consecutive ports (serve: stream k on PORT + k).
free_ports() {
  python3 -c '
import socket
for _ in range(200):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range('"$1"' - 1)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", p + 1 + i))
        print(p); break
    except OSError: pass'
}

gst-launch-1.0 -q videotestsrc num-buffers=24 pattern=ball ! video/x-raw,width=160,height=120,framerate=24/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/in.mp4" || fail "cannot make the input video"
# --threads 2 in transcode and every decode: the same float sums, so the same
# frames (auto splits the cores by a timing; video_cli_test.sh says why it matters).
expect 0 "$sv" transcode "$tmp/in.mp4" -o "$tmp/t.mp4" --view reconstruction --spikes "$tmp/t.h5" --seed 7 \
  --threads 2
raw "$tmp/t.mp4" "$tmp/t.raw" || fail "cannot decode transcode's output"

# Both transports: decode listens first, encode sends; the frames are
# transcode's, bit for bit (integer counts, lossless coding; loopback loses
# nothing here). Then the spike file replayed: the same frames again, at
# the file's 24 frames/s (24 frames: at least 0.95 s).
for scheme in rtp srt; do
  for what in video replay; do
    port=$(free_port) || fail "no free port"
    rx="$scheme://127.0.0.1:$port"; [ $scheme = srt ] && rx="srt://:$port"
    keep=(); [ $what = video ] && keep=(--spikes "$tmp/net.h5")
    "$sv" decode "$rx" -o "$tmp/net.mp4" "${keep[@]}" --idle-timeout 20 --threads 2 >"$tmp/net.out" 2>&1 &
    rx_pid=$!; pids+=($rx_pid)
    wait_for "$tmp/net.out" ": listening"
    t0=$(date +%s.%N)
    if [ $what = video ]; then
      expect 0 "$sv" encode "$tmp/in.mp4" --to "$scheme://127.0.0.1:$port" --seed 7
    else
      expect 0 "$sv" encode "$tmp/t.h5" --to "$scheme://127.0.0.1:$port"
      python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 >= 0.95 else 1)" || fail "$scheme: the replay did not keep the file's pace"
    fi
    wait $rx_pid || { cat "$tmp/net.out" >&2; fail "decode $rx exited $?"; }
    grep -q "^stream: 24 frames received, 0 lost" "$tmp/net.out" || { cat "$tmp/net.out" >&2; fail "$scheme $what: not every frame arrived"; }
    raw "$tmp/net.mp4" "$tmp/net.raw" || fail "cannot decode the $scheme output"
    cmp -s "$tmp/t.raw" "$tmp/net.raw" || fail "$scheme $what: received frames differ from transcode's"
    if [ $what = video ]; then  # the spikes received, kept: decoded again, the same frames
      expect 0 "$sv" decode "$tmp/net.h5" -o "$tmp/again.mp4" --view reconstruction --threads 2
      raw "$tmp/again.mp4" "$tmp/again.raw" && cmp -s "$tmp/t.raw" "$tmp/again.raw" ||
        fail "$scheme: decode --spikes kept other spikes than were sent"
    fi
  done
done
# decode: a window or a file, one of them; no display, a clear line.
expect 2 "$sv" decode "$tmp/t.h5"
expect 2 "$sv" decode "$tmp/t.h5" -o "$tmp/w.mp4" --window
expect 1 env -u DISPLAY -u WAYLAND_DISPLAY "$sv" decode "$tmp/t.h5" --window
grep -q "no display" "$tmp/err" || fail "decode --window without a display: $(cat "$tmp/err")"
expect 2 "$sv" encode "$tmp/t.h5" -o "$tmp/copy.h5" --to "rtp://127.0.0.1:9"

# A longer spike file (96 frames, 4 s at its pace) for the restarts.
gst-launch-1.0 -q videotestsrc num-buffers=96 pattern=ball ! video/x-raw,width=160,height=120,framerate=24/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/long.mp4" || fail "cannot make the long video"
expect 0 "$sv" encode "$tmp/long.mp4" -o "$tmp/long.h5"

# A receiver that joins late (RTP: the sender sends whether or not anyone
# listens): the header comes again every second, so it starts within one of
# listening. A 10 s replay (240 frames), so that a receiver slow to start on
# a loaded machine still joins it.
gst-launch-1.0 -q videotestsrc num-buffers=240 pattern=ball ! video/x-raw,width=160,height=120,framerate=24/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/late-in.mp4" || fail "cannot make the 10 s video"
expect 0 "$sv" encode "$tmp/late-in.mp4" -o "$tmp/late.h5"
port=$(free_port)
"$sv" encode "$tmp/late.h5" --to "rtp://127.0.0.1:$port" >"$tmp/late-tx.out" 2>&1 &
tx_pid=$!; pids+=($tx_pid)
wait_for "$tmp/late-tx.out" ": sending"
t_send=$(date +%s.%N)
sleep 1.5
"$sv" decode "rtp://127.0.0.1:$port" -o "$tmp/late.mp4" --idle-timeout 5 >"$tmp/late.out" 2>&1 &
rx_pid=$!; pids+=($rx_pid)
wait_for "$tmp/late.out" ": listening"
t_listen=$(date +%s.%N)
wait $rx_pid || { cat "$tmp/late.out" >&2; fail "late joiner: decode exited $?"; }
wait $tx_pid
n=$(sed -n 's/^stream: \([0-9]*\) frames received.*/\1/p' "$tmp/late.out")
# Frames still to come when it listened (the replay keeps 24 frames/s, or
# falls behind: more), less one second to the next header and one of slack.
left=$(python3 -c "print(int(240 - ($t_listen - $t_send) * 24 - 48))")
[ -n "$n" ] && [ "$n" -lt 240 ] && [ "$n" -ge "$left" ] ||
  { cat "$tmp/late.out" >&2; fail "late joiner: $n frames (at least $left expected, fewer than 240)"; }
[ "$(frames_of "$tmp/late.mp4")" = "$n" ] || fail "late joiner: the video has $(frames_of "$tmp/late.mp4") frames, not $n"

# The sender killed mid-stream (no end of stream) and started again within
# --idle-timeout: the receiver goes on with the new stream (a new stream id,
# counted as a restart, from its frame 0), and its video holds the frames of
# both, none of the second's lost. RTP simply resumes. Over SRT, srtsrc reads
# one caller at a time and SRT notices a dead one only after 5 s: the
# receiver listens again after a second of silence and says so (before: 5 s),
# and the sender started then is followed. (One that calls before that line
# is answered from the listener's backlog, unread, and loses nothing only if
# it runs for more than about 7 s: the next test, bench/restart.sh.)
for scheme in rtp srt; do
  port=$(free_port)
  rx="$scheme://127.0.0.1:$port"; [ $scheme = srt ] && rx="srt://:$port"
  "$sv" decode "$rx" -o "$tmp/restart.mp4" --idle-timeout 30 >"$tmp/restart.out" 2>&1 &
  rx_pid=$!; pids+=($rx_pid)
  wait_for "$tmp/restart.out" ": listening"
  "$sv" encode "$tmp/long.h5" --to "$scheme://127.0.0.1:$port" >/dev/null 2>&1 &
  tx_pid=$!
  # Killed once its stream has begun (the receiver says so) and run a second:
  # on 2 busy cores a sender may take longer than that to start.
  wait_for "$tmp/restart.out" "a stream began"
  sleep 1
  kill -9 $tx_pid; wait $tx_pid 2>/dev/null
  if [ $scheme = srt ]; then  # a second of silence (a loaded machine: more)
    wait_for "$tmp/restart.out" "listening again"
  fi
  expect 0 "$sv" encode "$tmp/long.h5" --to "$scheme://127.0.0.1:$port"
  wait $rx_pid || { cat "$tmp/restart.out" >&2; fail "$scheme restart: decode exited $?"; }
  n=$(sed -n 's/^stream: \([0-9]*\) frames received.*/\1/p' "$tmp/restart.out")
  [ -n "$n" ] && [ "$n" -gt 96 ] || { cat "$tmp/restart.out" >&2; fail "$scheme restart: $n frames, not the first sender's and all 96 of the second's"; }
  grep -q "^stream: $n frames received, 0 lost" "$tmp/restart.out" || { cat "$tmp/restart.out" >&2; fail "$scheme restart: frames of the second sender lost"; }
  grep -q "1 sender restarts" "$tmp/restart.out" || { cat "$tmp/restart.out" >&2; fail "$scheme restart not counted"; }
  grep -q "a new stream (the sender started again), from its frame 0$" "$tmp/restart.out" || { cat "$tmp/restart.out" >&2; fail "$scheme restart: not announced, or the second sender's start lost"; }
  [ "$(frames_of "$tmp/restart.mp4")" = "$n" ] || fail "$scheme restart: the video"
done

# A second SRT sender that calls while the receiver still reads the first:
# it is answered from the listener's backlog, unread (srtsrc reads one caller;
# before, all of its frames were thrown away and it reported them sent). The
# first is killed a second later; the receiver listens again after a second
# of silence; the backlog's socket goes on acknowledging for about 4.5 s,
# then the second sender calls again and sends again what it sent since: a
# 10 s replay, so that it is still sending then. All 240 of its frames arrive.
port=$(free_port)
"$sv" decode "srt://:$port" -o "$tmp/second.mp4" --idle-timeout 30 >"$tmp/second.out" 2>&1 &
rx_pid=$!; pids+=($rx_pid)
wait_for "$tmp/second.out" ": listening"
"$sv" encode "$tmp/late.h5" --to "srt://127.0.0.1:$port" >/dev/null 2>&1 &
tx_pid=$!
wait_for "$tmp/second.out" "a stream began"
"$sv" encode "$tmp/late.h5" --to "srt://127.0.0.1:$port" >"$tmp/second-tx.out" 2>&1 &
tx2_pid=$!; pids+=($tx2_pid)
wait_for "$tmp/second-tx.out" "the receiver answered"
sleep 1
kill -9 $tx_pid; wait $tx_pid 2>/dev/null
wait $tx2_pid || { cat "$tmp/second-tx.out" >&2; fail "the second sender exited $?"; }
wait $rx_pid || { cat "$tmp/second.out" >&2; fail "second sender: decode exited $?"; }
n=$(sed -n 's/^stream: \([0-9]*\) frames received.*/\1/p' "$tmp/second.out")
grep -q "a new stream (the sender started again), from its frame 0$" "$tmp/second.out" &&
  grep -q "^stream: $n frames received, 0 lost" "$tmp/second.out" && [ "$n" -gt 240 ] ||
  { cat "$tmp/second.out" >&2; fail "a second sender answered from the backlog lost frames"; }

# An SRT sender holds its frames until the receiver answers; Ctrl-C before
# anyone has ends it at once (the exit code of SIGINT), saying none was delivered.
port=$(free_port)
"$sv" encode "$tmp/long.h5" --to "srt://127.0.0.1:$port" >"$tmp/int.out" 2>&1 &
tx_pid=$!; pids+=($tx_pid)
wait_for "$tmp/int.out" ": calling"
t0=$(date +%s.%N)
kill -INT $tx_pid; wait $tx_pid; rc=$?
[ $rc = 130 ] || { cat "$tmp/int.out" >&2; fail "Ctrl-C of an unanswered SRT sender: exit $rc"; }
python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 < 3 else 1)" || fail "Ctrl-C of an unanswered SRT sender took 3 s or more"
grep -q "(interrupted).*nobody answered: none delivered" "$tmp/int.out" || { cat "$tmp/int.out" >&2; fail "Ctrl-C of an unanswered SRT sender: its summary"; }

# serve: three streams on consecutive ports. Two replays of the same file
# give two videos of 24 frames, the same; a sender with other tiles is
# refused in one line and the others go on.
expect 0 "$sv" encode "$tmp/in.mp4" -o "$tmp/tiled.h5" --tiles 2x2 --frames 4
base=$(free_ports 3) || fail "no free ports"
"$sv" serve --listen "srt://127.0.0.1:$base" --streams 3 -o "$tmp/s-%02d.mp4" --idle-timeout 20 \
  --stats "$tmp/serve.json" >"$tmp/serve.out" 2>"$tmp/serve.err" &
sv_pid=$!; pids+=($sv_pid)
wait_for "$tmp/serve.out" ":$((base + 2)): listening"
# One process plays the senders of streams 0 and 1 (--streams 2).
"$sv" encode "$tmp/t.h5" --to "srt://127.0.0.1:$base" --streams 2 >/dev/null 2>&1 &
a=$!
"$sv" encode "$tmp/tiled.h5" --to "srt://127.0.0.1:$((base + 2))" >/dev/null 2>&1
wait $a || fail "serve: the sender of streams 0 and 1 failed"
wait $sv_pid || { cat "$tmp/serve.out" "$tmp/serve.err" >&2; fail "serve exited $?"; }
grep -q "^spikevid serve: 3 of 3 streams came, 48 frames received, 0 lost, 48 written" "$tmp/serve.out" \
  || { cat "$tmp/serve.out" "$tmp/serve.err" >&2; fail "serve: counts"; }
grep -q "stream 2 refused: .*tiles are 2x2" "$tmp/serve.err" || { cat "$tmp/serve.err" >&2; fail "serve: the tiled stream was not refused"; }
[ "$(frames_of "$tmp/s-00.mp4")" = 24 ] && [ "$(frames_of "$tmp/s-01.mp4")" = 24 ] || fail "serve: videos"
[ ! -e "$tmp/s-02.mp4" ] || fail "serve: the refused stream has a video"
raw "$tmp/s-00.mp4" "$tmp/s0.raw" && raw "$tmp/s-01.mp4" "$tmp/s1.raw" || fail "serve: cannot decode"
cmp -s "$tmp/s0.raw" "$tmp/s1.raw" || fail "serve: the same spikes gave different frames"
python3 - "$tmp/serve.json" <<'PY' || fail "serve: --stats"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["streams"]
assert [x["written"] for x in s] == [24, 24, 0], s
assert s[2]["refused"] and s[0]["latency_ms"]["p99"] > 0, s
PY

# bench --mode network: every frame over loopback, the bytes against H.264,
# the latency, in its JSON.
expect 0 "$sv" bench --mode network --source "$tmp/in.mp4" --frames 24 --warmup 2 --transport rtp,srt \
  --srt-latency 20 --json "$tmp/net.json"
python3 - "$tmp/net.json" <<'PY' || fail "bench --mode network: its JSON"
import json, sys
n = json.load(open(sys.argv[1]))["network"]
assert n["frames"] == 24 and n["h264"]["bytes_per_s"] > 0 and n["entropy_bits_per_count"] > 0, n
assert [r["uri"].split(":")[0] for r in n["runs"]] == ["rtp", "srt"], n["runs"]
for r in n["runs"]:
    assert r["frames_received"] == 24 and r["lost"] == 0 and r["end_of_stream_received"], r
    assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"] and r["bytes_per_s"] > 0, r
assert n["runs"][1]["latency_ms"]["p50"] >= 15, n["runs"][1]  # SRT holds each packet its latency
PY
expect 2 "$sv" bench --mode network

# Bad input: one line and exit 1 (nobody sends; a bad URI; a port another
# receiver holds) or 2 (a bad pattern, a command line that cannot work).
expect 1 "$sv" decode "rtp://127.0.0.1:$(free_port)" -o "$tmp/none.mp4" --idle-timeout 1
grep -q "no stream header within 1 s" "$tmp/err" || fail "idle receiver: $(cat "$tmp/err")"
[ ! -e "$tmp/none.mp4" ] || fail "an idle receiver wrote its output"
expect 1 "$sv" serve --listen "rtp://127.0.0.1:$(free_port)" -o "$tmp/none-%d.mp4" --idle-timeout 1
[ ! -e "$tmp/none-0.mp4" ] || fail "an idle server wrote an output"
expect 2 "$sv" serve --listen "rtp://127.0.0.1:$(free_port)" --streams 2 -o "$tmp/same.mp4"
expect 2 "$sv" serve --listen "rtp://127.0.0.1:$(free_port)" -o "$tmp/%s.mp4"
expect 1 "$sv" decode "srt://:0" -o "$tmp/none.mp4"
expect 1 "$sv" serve --listen "udp://127.0.0.1:7000"
expect 2 "$sv" serve --listen "srt://:65535" --streams 2
expect 1 "$sv" encode "$tmp/in.mp4" --to "udp://127.0.0.1:9"
expect 2 "$sv" encode "$tmp/in.mp4"
expect 2 "$sv" encode "$tmp/t.h5" -o "$tmp/x.h5" --streams 2
expect 2 "$sv" encode "$tmp/t.h5" --to "rtp://127.0.0.1:65535" --streams 2
held="rtp://127.0.0.1:$(free_port)"
"$sv" decode "$held" -o "$tmp/hold.mp4" --idle-timeout 60 >"$tmp/hold.out" 2>&1 &
hold_pid=$!; pids+=($hold_pid)
wait_for "$tmp/hold.out" ": listening"
expect 1 "$sv" decode "$held" -o "$tmp/second.mp4" --idle-timeout 1
grep -q "$held" "$tmp/err" || fail "port in use: $(cat "$tmp/err")"
expect 1 "$sv" serve --listen "$held" --idle-timeout 1
grep -q "$held" "$tmp/err" || fail "serve, port in use: $(cat "$tmp/err")"
kill $hold_pid 2>/dev/null; wait $hold_pid 2>/dev/null
echo "stream_cli_test: all passed"
