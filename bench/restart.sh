#!/usr/bin/env bash
# A sender that dies and starts again (issue 16, item 4), measured as a user
# meets it: `spikevid decode` listens; sender A replays a 10 s spike file
# (300 frames at 30 frames/s) and is killed (SIGKILL: no end of stream) 3 s
# after the receiver said its stream began; sender B replays the same file
# DELAY seconds after A died (a negative DELAY: B starts that long before A
# dies, and calls while the receiver still reads A). Per transport and delay: the frames of B the
# receiver got (of 300), the number of B's first frame it saw, what it counted
# lost and repeated, and B's own summary. A run per transport and delay, in
# turn; about 25 s each. `total` is every frame the receiver got, A's (about
# 90) and B's; B_frames is 300 less B's first frame seen and the frames
# counted lost (a build before 2026-12-02 night says neither: total - 90).
#   bench/restart.sh [OUT_DIR] [DELAY ...]     (default delays: -1 0 0.5 1 2 4)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
S=${SPIKEVID:-build/tools/spikevid}  # SPIKEVID=another build: the same runs with it
R=${1:-bench/results/restart-cpu-$(date -u +%F)}
shift || true
delays=("$@"); [ ${#delays[@]} = 0 ] && delays=(-1 0 0.5 1 2 4)
mkdir -p "$R"
W=$(mktemp -d)  # each run's outputs and logs; the table goes to $R/restart.txt
trap 'rm -rf "$W"' EXIT
exec > >(tee "$R/restart.txt") 2>&1
spikes=$W/ten-s.h5
gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=ball ! video/x-raw,width=160,height=120,framerate=30/1 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$W/ten-s.mp4" &&
  $S encode "$W/ten-s.mp4" -o "$spikes" --seed 1 >/dev/null 2>&1 || { echo "cannot make the spike file"; exit 1; }
free_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {  # FILE TEXT: at most 60 s
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
date -u
echo "$S: $(git log -1 --format='commit %h' 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' + changes')"
printf '%-4s %6s %6s %9s %8s %6s %9s  %s\n' scheme delay total B_frames B_first lost repeated "B's summary"
for scheme in srt rtp; do
  for d in "${delays[@]}"; do
    port=$(free_port)
    rx="$scheme://127.0.0.1:$port"; [ $scheme = srt ] && rx="srt://:$port"
    out=$W/$scheme-$d.rx
    $S decode "$rx" -o "$W/$scheme-$d.mp4" --idle-timeout 30 >"$out" 2>&1 &
    rx_pid=$!
    wait_for "$out" ": listening" || { echo "$scheme $d: the receiver did not listen"; kill $rx_pid; continue; }
    $S encode "$spikes" --to "$scheme://127.0.0.1:$port" >"$W/$scheme-$d.a" 2>&1 &
    a_pid=$!
    wait_for "$out" "a stream began"
    if python3 -c "import sys; sys.exit(0 if $d >= 0 else 1)"; then
      sleep 3
      kill -9 $a_pid; wait $a_pid 2>/dev/null
      sleep "$d"
      $S encode "$spikes" --to "$scheme://127.0.0.1:$port" >"$W/$scheme-$d.b" 2>&1
    else  # B starts before A dies: it calls while A is still read
      sleep "$(python3 -c "print(3 + $d)")"
      $S encode "$spikes" --to "$scheme://127.0.0.1:$port" >"$W/$scheme-$d.b" 2>&1 &
      b_pid=$!
      sleep "$(python3 -c "print(-($d))")"
      kill -9 $a_pid; wait $a_pid 2>/dev/null
      wait $b_pid
    fi
    wait $rx_pid
    total=$(sed -n 's/^stream: \([0-9]*\) frames received.*/\1/p' "$out")
    lost=$(sed -n 's/^stream: .* \([0-9]*\) lost.*/\1/p' "$out")
    rep=$(sed -n 's/^stream: .* \([0-9]*\) repeated.*/\1/p' "$out")
    first=$(sed -n 's/.*a new stream (the sender started again), from its frame \([0-9]*\)$/\1/p' "$out" | tail -1)
    # B's frames: those after its first one seen, less the gaps counted lost
    # after the restart (A sent in order until it died: no gap of its own).
    b=$([ -n "$first" ] && echo $((300 - first - ${lost:-0})) || echo 0)
    printf '%-4s %6s %6s %9s %8s %6s %9s  %s\n' $scheme "$d" "${total:--}" "$b" "${first:--}" "${lost:--}" "${rep:--}" \
      "$(grep "^spikevid encode:\|error\|nobody" "$W/$scheme-$d.b" | tail -1 | cut -c1-60)"
    grep -h "listening again\|stopped answering\|answered" "$out" "$W/$scheme-$d.b" | sed 's/^/      /'
    [ -n "$total" ] || { echo "      receiver:"; tail -3 "$out" | sed 's/^/      /'; }
  done
done
