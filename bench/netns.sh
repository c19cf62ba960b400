#!/usr/bin/env bash
# bench --mode network across two network namespaces joined by a veth pair
# (tools/netns-pair), through a relay beside the receiver that adds 15-25 ms
# of delay and drops 1 % of the datagrams, each way (GStreamer's netsim). The
# sender sends from a thread in one namespace, the receiver receives in the
# other, so each frame's added latency is on one clock. Needs root.
#   bench/netns.sh OUT_DIR [more bench options, e.g. --tiles 3x4]
# Writes OUT_DIR/network-netns-TILES.json and .txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: bench/netns.sh OUT_DIR [bench options]}
shift
sv=${SPIKEVID:-$root/build/tools/spikevid}
video=${VIDEO:-$root/data/video/vtest.avi}
tiles=1x1
for ((i = 1; i <= $#; i++)); do [ "${!i}" = --tiles ] && { j=$((i + 1)); tiles=${!j}; }; done
a=svbenchA$$ b=svbenchB$$
trap '"$root/tools/netns-pair" down "$a" "$b"' EXIT
"$root/tools/netns-pair" up "$a" "$b"
mkdir -p "$out"
"$sv" bench --mode network --source "$video" --frames "${FRAMES:-600}" --transport rtp,srt \
  --srt-latency "${SRT_LATENCY:-200}" --netns "$a,$b" --receiver-address 10.213.0.2 \
  --netsim "${NETSIM:-15-25,0.01}" --json "$out/network-netns-$tiles.json" "$@" |
  tee "$out/network-netns-$tiles.txt"
