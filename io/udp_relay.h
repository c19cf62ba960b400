#pragma once
// A UDP relay that makes a network worse on purpose, for measuring the spike
// stream over a bad link (bench --mode network --netsim). Every datagram that
// reaches LISTEN_HOST:LISTEN_PORT goes on to TO_HOST:TO_PORT, and every reply
// comes back to whoever sent last, from the listening port: so an SRT caller
// and its listener talk through it as if directly. Each direction goes through
// GStreamer's netsim (delay drawn uniformly from [min, max] ms, kept in order,
// and a drop probability). GStreamer elements only: udpsrc, netsim, udpsink
// and dynudpsink sharing the two sockets.
//
// The sockets are made in the constructor, on the calling thread: a thread
// that entered a network namespace (setns) makes the relay there.
// Thread-safe: counts() from any thread. Blocks: the constructor, briefly.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

typedef struct _GstElement GstElement;
typedef struct _GSocket GSocket;

namespace spikevid::stream {

struct RelayConfig {
  std::string listen_host = "0.0.0.0";
  int listen_port = 0;
  std::string to_host = "127.0.0.1";
  int to_port = 0;
  int min_delay_ms = 0, max_delay_ms = 0;  // each direction
  double loss = 0;                         // each direction, 0 to 1
};

// "DELAY,LOSS": DELAY in ms as D or MIN-MAX (each way), LOSS a fraction
// 0 to 1 ("15-25,0.01"); sets c's delays and loss. Throws std::invalid_argument.
void parse_netsim(const std::string& spec, RelayConfig& c);

struct RelayCounts {
  std::uint64_t forward_in = 0, forward_out = 0;  // datagrams towards to_host
  std::uint64_t back_in = 0, back_out = 0;        // replies towards the sender
};

class UdpRelay {
 public:
  // Throws std::runtime_error with one line (a port in use, no netsim).
  explicit UdpRelay(const RelayConfig& c);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;
  RelayCounts counts() const;
  std::string describe() const;  // "15-25 ms, 1.0 % loss each way"

  struct Shared;  // the probes' state

 private:
  RelayConfig config_;
  GstElement* pipeline_ = nullptr;
  GSocket* sockets_[2] = {nullptr, nullptr};  // front (the listening one), back
  std::unique_ptr<Shared> shared_;
};

}  // namespace spikevid::stream
