#pragma once
// The spike stream's transport (io/spike_stream.h messages), GStreamer's own:
//   srt://HOST:PORT[?mode=caller|listener&latency=MS&passphrase=P]
//       srtsink / srtsrc. The receiver listens by default, the sender calls.
//       SRT cuts a message above 1,316 bytes into packets; the receiver puts
//       them back together (MessageAssembler).
//   rtp://HOST:PORT
//       rtpgstpay ! udpsink / udpsrc ! rtpgstdepay: a message a payloaded
//       buffer, fragments joined by the depayloader; a lost fragment loses
//       its message (a gap in sequence numbers).
// The receiver of rtp:// binds PORT on HOST (0.0.0.0: every address).
// Thread-safe: no (one thread per object). Every error is a
// std::runtime_error with one line naming the URI.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

typedef struct _GstElement GstElement;

namespace spikevid::stream {

struct StreamUri {
  enum class Kind { srt, rtp } kind = Kind::srt;
  std::string text;  // as given
  std::string host;
  int port = 0;
  bool listener = false;
  int latency_ms = -1;  // -1: SRT's default (120 ms)
  std::string passphrase;
};

// Parses `uri`; `receiver` picks SRT's default mode (listener) where the URI
// names none. Throws std::runtime_error ("URI: what is wrong").
StreamUri parse_stream_uri(const std::string& uri, bool receiver);
// The URI as given, with PORT + k (the scheme, host and query kept): stream
// k of `serve`, or of `encode --streams`.
std::string uri_with_port_offset(const StreamUri& uri, int k);

class MessageSender {
 public:
  // Starts sending. An SRT caller connects in the background and retries;
  // messages are held until the receiver answers (none is lost to a late
  // start), and one that has not answered within `connect_timeout_s` makes
  // send() or finish() fail. Once connected, a receiver that stops
  // acknowledging for a second (plus the latency) is taken as gone: messages
  // are held again while SRT reconnects (its peer idle timeout is 5 s), then
  // the ones sent since its last acknowledgement are sent again with them,
  // so a receiver that restarts, or one that listens again, misses nothing
  // (a receiver that saw some twice counts them late). No answer within the
  // connect timeout is the same error as at the start.
  explicit MessageSender(const StreamUri& uri, double connect_timeout_s = 10);
  ~MessageSender();
  // Queues one message; throws if the transport failed.
  void send(const std::string& message);
  // Sends what is queued, then ends the stream: waits while the transport
  // still delivers (a slow receiver holds SRT back; 3 s without a byte sent
  // is a receiver gone), then `linger_s` more for retransmissions. Messages
  // held for a receiver that has not answered: with `wait_for_receiver`,
  // waited for (then the connect timeout's error); without, dropped (Ctrl-C,
  // the destructor). Idempotent.
  void finish(double linger_s = 1.0, bool wait_for_receiver = true);
  // The receiver answered and still does (RTP, which has no answer: true).
  bool answered() const { return uri_.kind != StreamUri::Kind::srt || connected_; }
  // Times the receiver stopped answering.
  int stalls() const { return stalls_; }

 private:
  void check_transport();              // throws the bus's error
  bool wait_connected(double wait_s);  // throws after the connect timeout
  void probe();                        // gives SRT something to call with
  void push(const std::string& message);
  void watch_acknowledgements();  // SRT: a receiver that stopped answering is held for again
  void send_held();               // after an answer: the unacknowledged, then the held

  StreamUri uri_;
  GstElement* pipeline_ = nullptr;
  GstElement* src_ = nullptr;
  GstElement* out_ = nullptr;
  double connect_timeout_s_ = 10;
  std::chrono::steady_clock::time_point started_;
  bool connected_ = false;
  std::deque<std::string> held_;  // SRT: sent once the receiver answers
  // SRT, once connected: what was pushed and when, until acknowledged.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> unacked_;
  std::string last_header_;  // SRT: what probe() sends
  std::int64_t acks_ = -1;   // the socket's acknowledgements last read
  // The first message pushed since the last acknowledgement, if any.
  std::optional<std::chrono::steady_clock::time_point> unanswered_since_;
  int stalls_ = 0;  // not connected after one: held for a receiver that stopped answering
  std::chrono::steady_clock::time_point last_probe_;
  bool finished_ = false;
};

class MessageReceiver {
 public:
  // Binds (listener) or calls; a port in use or a bad host fails here.
  explicit MessageReceiver(const StreamUri& uri);
  ~MessageReceiver();
  // The next whole message with a valid checksum, or nullopt when none
  // came within `timeout_s` or the transport ended (see ended()).
  std::optional<std::string> next(double timeout_s);
  // The sender closed the connection (SRT) or the pipeline ended.
  bool ended() const { return ended_; }
  // An SRT listener whose caller left: listen on the same port again (a
  // sender that restarts calls again). What the assembler held is dropped.
  void listen_again();
  bool can_listen_again() const { return uri_.kind == StreamUri::Kind::srt && uri_.listener; }
  std::uint64_t skipped_bytes() const;

 private:
  struct Impl;
  StreamUri uri_;
  std::unique_ptr<Impl> impl_;
  bool ended_ = false;
};

}  // namespace spikevid::stream
