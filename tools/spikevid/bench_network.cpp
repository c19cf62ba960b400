#include "tools/spikevid/bench_network.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include "io/h264_size.h"
#include "io/spike_stream.h"
#include "io/spike_transport.h"
#include "io/udp_relay.h"
#include "pipeline/frame_meta.h"
#include "pipeline/latency_summary.h"
#include "stages/line.h"
#include "stages/spike_files.h"
#include "stages/spike_streams.h"

namespace spikevid::cli {
namespace {

using Clock = std::chrono::steady_clock;

int free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("bench --mode network: no free UDP port on loopback");
  return ntohs(a.sin_port);
}

struct Frame {
  std::vector<float> counts;
  std::int64_t pts_ns = 0;
};

// This thread in the network namespace NAME (ip netns add NAME) until the
// guard goes; sockets made meanwhile stay there. "": nothing changes.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& name) {
    if (name.empty()) return;
    saved_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const std::string path = "/run/netns/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (saved_ < 0 || fd < 0) {
      if (fd >= 0) ::close(fd);
      if (saved_ >= 0) ::close(saved_);
      throw std::runtime_error(path + ": no such network namespace (make it with ip netns add " +
                               name + ")");
    }
    const int rc = ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    if (rc != 0) {
      ::close(saved_);
      throw std::runtime_error("network namespace " + name + ": " + std::strerror(errno) +
                               " (entering one needs root)");
    }
  }
  ~NetnsGuard() {
    if (saved_ < 0) return;
    (void)::setns(saved_, CLONE_NEWNET);
    ::close(saved_);
  }
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace

nlohmann::json run_network_bench(const NetworkBenchArgs& a, std::ostream& log) {
  // The spikes, once: the line encodes the source into a temporary file.
  const auto dir =
      std::filesystem::temp_directory_path() / ("spikevid-netbench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup{dir};
  const std::string spikes = (dir / "spikes.h5").string();
  {
    LineConfig c;
    c.input = a.source;
    c.tiles = parse_tile_grid(a.tiles);
    c.encode.encoder = a.encoder;
    c.encode.seed = a.seed;
    c.max_frames = a.frames;
    c.decode = false;
    c.record_spikes = spikes;
    c.batch = 0;
    c.precision = std::nullopt;
    Line line(c);
    line.run();
  }
  SpikeFileSource file(spikes);
  std::vector<Frame> frames;
  while (auto s = file.next()) {
    auto c = (*s)->counts.to(torch::kFloat32).contiguous();
    frames.push_back(
        {std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()), (*s)->pts_ns});
  }
  if (frames.size() <= a.warmup)
    throw std::runtime_error(a.source + ": " + std::to_string(frames.size()) +
                             " frames, no more than --warmup");
  const auto grid = file.grid();
  const auto& e = file.encoder();
  const auto header = stream_header_of(e, grid, a.fps);
  const std::size_t n_counts = frames[0].counts.size();
  // The counts' order-0 entropy, bits a count: what a coding of each count
  // alone could reach at best.
  double entropy = 0;
  {
    std::map<float, double> histogram;
    for (const auto& f : frames)
      for (float c : f.counts) histogram[c] += 1;
    const double total = static_cast<double>(frames.size() * n_counts);
    for (const auto& [count, n] : histogram) entropy -= n / total * std::log2(n / total);
  }

  const double h264 = h264_bytes_per_frame(a.source, grid.width(), grid.height(), a.frames,
                                           static_cast<int>(std::lround(a.fps)));
  log << "network: " << frames.size() << " frames of " << a.source << ", " << grid.rows << "x"
      << grid.cols << " tiles (" << n_counts << " counts a frame), at " << a.fps
      << " frames/s; H.264 of the same frames at " << grid.width() << "x" << grid.height() << ": "
      << std::fixed << std::setprecision(0) << h264 * a.fps
      << " bytes/s; the counts' order-0 entropy " << std::setprecision(2) << entropy
      << " bits a count\n";

  const bool relayed = a.netsim_max_ms >= 0;
  if (relayed || !a.sender_netns.empty() || !a.receiver_netns.empty())
    log << "network: sender in " << (a.sender_netns.empty() ? "this" : a.sender_netns)
        << " network namespace, receiver in "
        << (a.receiver_netns.empty() ? "this" : a.receiver_netns) << ", sending to "
        << a.receiver_address << (relayed ? " through a netsim relay" : "") << "\n";
  std::vector<std::string> uris;
  for (const auto& t : a.transports) {
    if (t == "rtp")
      uris.push_back("rtp://127.0.0.1:");
    else if (t == "srt")
      for (int l : a.srt_latency_ms)
        uris.push_back("srt://127.0.0.1:@?latency=" + std::to_string(l));
    else
      throw std::runtime_error("--transport: expected rtp or srt, got '" + t + "'");
  }
  nlohmann::json runs = nlohmann::json::array();
  for (auto uri : uris) {
    // The receiver listens on `port`; the sender sends to receiver_address at
    // `port`, or at the relay's port, which passes everything on to `port`.
    const int port_number = free_udp_port();
    int relay_port = relayed ? free_udp_port() : port_number;
    while (relayed && relay_port == port_number) relay_port = free_udp_port();
    const std::string port = std::to_string(port_number);
    const std::string query = uri.find('?') == std::string::npos ? "" : uri.substr(uri.find('?'));
    const std::string listen =
        uri.rfind("srt", 0) == 0
            ? "srt://:" + port + query
            : "rtp://" + (relayed ? std::string("127.0.0.1") : a.receiver_address) + ":" + port;
    uri = uri.substr(0, uri.find("://") + 3) + a.receiver_address + ":" +
          std::to_string(relay_port) + query;
    std::unique_ptr<stream::MessageReceiver> receiver;
    std::unique_ptr<stream::UdpRelay> relay;
    {
      NetnsGuard in(a.receiver_netns);
      receiver = std::make_unique<stream::MessageReceiver>(stream::parse_stream_uri(listen, true));
      if (relayed) {
        stream::RelayConfig rc;
        rc.listen_host = a.receiver_address;
        rc.listen_port = relay_port;
        rc.to_host = "127.0.0.1";
        rc.to_port = port_number;
        rc.min_delay_ms = a.netsim_min_ms;
        rc.max_delay_ms = a.netsim_max_ms;
        rc.loss = a.netsim_loss;
        relay = std::make_unique<stream::UdpRelay>(rc);
      }
    }
    auto& rx = *receiver;
    std::vector<std::int64_t> sent(frames.size(), 0), received(frames.size(), 0);
    double wire_bytes = 0, count_bytes = 0;
    std::random_device rd;
    const std::uint64_t id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    std::exception_ptr send_error;
    std::thread sender([&] {
      try {
        std::unique_ptr<stream::MessageSender> made;
        {
          NetnsGuard in(a.sender_netns);
          made = std::make_unique<stream::MessageSender>(stream::parse_stream_uri(uri, false));
        }
        auto& tx = *made;
        const auto t0 = Clock::now();
        const int every = std::max(1, static_cast<int>(std::lround(a.fps)));
        for (std::size_t i = 0; i < frames.size(); ++i) {
          std::this_thread::sleep_until(
              t0 + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(i) / a.fps)));
          if (i % static_cast<std::size_t>(every) == 0) {
            const auto h = stream::header_message(header, id, i);
            wire_bytes += static_cast<double>(h.size());
            tx.send(h);
          }
          const auto m =
              stream::frame_message(id, i, frames[i].pts_ns, frames[i].counts.data(), n_counts);
          wire_bytes += static_cast<double>(m.size());
          count_bytes += static_cast<double>(m.size() - stream::kPrefixBytes - 12);
          sent[i] = now_ns();
          tx.send(m);
        }
        tx.send(stream::end_message(id, frames.size()));
        tx.finish();
      } catch (...) {
        send_error = std::current_exception();
      }
    });
    // Receive until the end of stream, or 3 s of silence after the sender is done.
    bool ended = false;
    auto last = Clock::now();
    while (!ended) {
      auto m = rx.next(0.05);
      const auto now = now_ns();
      if (!m) {
        if (rx.ended() || Clock::now() - last > std::chrono::seconds(3 + frames.size() / 10)) break;
        continue;
      }
      last = Clock::now();
      try {
        const auto msg =
            stream::parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size());
        if (msg.type == stream::MessageType::end) ended = true;
        if (msg.type == stream::MessageType::frame && msg.seq < frames.size() &&
            received[msg.seq] == 0)
          received[msg.seq] = now;
      } catch (const stream::StreamError&) {
      }
    }
    // Closed, as a receiver does at the end: an SRT sender waits for that
    // (it knows the end was read, not only acknowledged).
    receiver.reset();
    sender.join();
    if (send_error) std::rethrow_exception(send_error);
    std::vector<double> ms;
    std::int64_t got = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (!received[i]) continue;
      ++got;
      if (i >= a.warmup) ms.push_back(static_cast<double>(received[i] - sent[i]) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    const double seconds = static_cast<double>(frames.size()) / a.fps;
    const double bits_per_count =
        8 * count_bytes / (static_cast<double>(frames.size()) * static_cast<double>(n_counts));
    nlohmann::json r = {{"uri", uri},
                        {"frames_sent", frames.size()},
                        {"frames_received", got},
                        {"lost", static_cast<std::int64_t>(frames.size()) - got},
                        {"end_of_stream_received", ended},
                        {"bytes_per_s", wire_bytes / seconds},
                        {"h264_bytes_per_s", h264 * a.fps},
                        {"bits_per_count", bits_per_count},
                        {"latency_ms",
                         {{"frames", ms.size()},
                          {"min", ms.empty() ? 0 : ms.front()},
                          {"p50", ms.empty() ? 0 : percentile(ms, 0.5)},
                          {"p99", ms.empty() ? 0 : percentile(ms, 0.99)},
                          {"max", ms.empty() ? 0 : ms.back()}}}};
    if (relay) {
      const auto c = relay->counts();
      r["relay"] = {{"netsim", relay->describe()},
                    {"datagrams_forward", {{"in", c.forward_in}, {"out", c.forward_out}}},
                    {"datagrams_back", {{"in", c.back_in}, {"out", c.back_out}}}};
    }
    if (!a.sender_netns.empty() || !a.receiver_netns.empty())
      r["netns"] = {{"sender", a.sender_netns},
                    {"receiver", a.receiver_netns},
                    {"receiver_address", a.receiver_address}};
    log << "network: " << std::left << std::setw(34) << uri << std::right << " received " << got
        << "/" << frames.size() << ", " << std::setprecision(0) << wire_bytes / seconds
        << " bytes/s (" << std::setprecision(2) << wire_bytes / seconds / (h264 * a.fps)
        << "x H.264; " << bits_per_count << " bits a count), added latency min "
        << r["latency_ms"]["min"].get<double>() << " ms, p50 "
        << r["latency_ms"]["p50"].get<double>() << " ms, p99 "
        << r["latency_ms"]["p99"].get<double>() << " ms, max "
        << r["latency_ms"]["max"].get<double>() << " ms\n";
    if (relay) {
      const auto c = relay->counts();
      log << "network:   relay (" << relay->describe() << "): datagrams forward " << c.forward_in
          << " in, " << c.forward_out << " out; back " << c.back_in << " in, " << c.back_out
          << " out\n";
    }
    runs.push_back(r);
  }
  return {{"source", a.source},
          {"tiles", a.tiles},
          {"fps", a.fps},
          {"frames", frames.size()},
          {"counts_per_frame", n_counts},
          {"entropy_bits_per_count", entropy},
          {"h264",
           {{"bytes_per_s", h264 * a.fps},
            {"settings", "x264 veryfast zerolatency, qual 23, key frame a second, gray"}}},
          {"runs", runs}};
}

}  // namespace spikevid::cli
