#pragma once
// spikevid bench --mode network: the spike stream over loopback (or across
// two network namespaces through a relay that delays and drops), measured.
// The source's frames are encoded once (the line, into a temporary spike
// file); then, for each transport, one thread sends them at --fps as the
// sender does (a header every second, a frame message a frame, the end of
// stream) and another receives them, in this process, so that each frame's
// added latency is its receive time minus its send time on one clock. Also
// the bytes a second the stream needs, against H.264 (x264, GStreamer) of
// the same frames at the same size.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spikevid::cli {

struct NetworkBenchArgs {
  std::string source;  // a video file (or any line source)
  std::string encoder, tiles = "1x1";
  std::vector<std::string> transports{"rtp", "srt"};
  std::vector<int> srt_latency_ms{120};  // SRT's own default
  double fps = 30;
  std::int64_t frames = 300;
  std::size_t warmup = 20;
  std::uint64_t seed = 1;
  // A worse network: the sender in one network namespace, the receiver in
  // another (each "": this process's), the sender sending to
  // receiver_address; and a relay (io/udp_relay.h) on the receiver's side
  // that delays each datagram by [netsim_min_ms, netsim_max_ms] and drops
  // netsim_loss of them, each way (netsim_max_ms < 0: no relay).
  std::string sender_netns, receiver_netns, receiver_address = "127.0.0.1";
  int netsim_min_ms = 0, netsim_max_ms = -1;
  double netsim_loss = 0;
};

// Throws std::runtime_error with one line.
nlohmann::json run_network_bench(const NetworkBenchArgs& a, std::ostream& log);

}  // namespace spikevid::cli
