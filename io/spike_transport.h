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
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// How long an SRT listener hears nothing from a sender that was sending
// before it takes the sender as dead and listens again: a second, or five
// frame periods where that is longer. SRT itself notices a dead peer only
// after about 5 s (16 expirations of at least 0.3 s: its peer idle timeout
// cannot be made shorter), and srtsrc reads one caller at a time: a sender
// that starts again meanwhile is answered and acknowledged by a socket in
// the listener's backlog that nobody reads, and that goes on acknowledging,
// unread, for about 4.5 s after the listener closed (libsrt closes a closed
// listener's queue after 3 s). The sender keeps what it sent for that long
// (MessageSender), and sends it again when its acknowledgements stop.
double silent_sender_s(double fps);

class MessageSender {
 public:
  // Starts sending. An SRT caller connects in the background and retries;
  // messages are held until the receiver answers (none is lost to a late
  // start), and one that has not answered within `connect_timeout_s` makes
  // send() or finish() fail. Once connected, a receiver that stops
  // acknowledging for a second (plus the latency) is taken as gone: the
  // sender calls again at once (SRT alone would wait for its 5 s peer idle
  // timeout), holds messages until a receiver answers, then sends again
  // those of the last `silence_s` + 6.5 s + the latency before its last
  // acknowledgement (what a listener may have acknowledged unread, see
  // silent_sender_s: `silence_s` is the receiver's), and the held ones. So
  // a receiver that restarts, one that listens again, and one that answered
  // from its backlog miss nothing; one that saw some twice counts them as
  // repeated. No answer within the connect timeout is the same error as at
  // the start.
  explicit MessageSender(const StreamUri& uri, double connect_timeout_s = 10,
                         double silence_s = 1.0);
  ~MessageSender();
  // Queues one message; throws if the transport failed.
  void send(const std::string& message);
  // Sends what is queued, then ends the stream. Messages held for a receiver
  // that has not answered: with `wait_for_receiver`, waited for (then the
  // connect timeout's error); without, dropped (Ctrl-C, the destructor).
  // SRT, with `wait_for_receiver`: waits until the receiver has read
  // everything. An acknowledgement is not that (srtsrc throws away what its
  // socket still holds once the peer closes: a decoder behind by seconds
  // lost its last seconds), so a receiver closes its connection when it
  // reads the end of stream (SpikeStreamSource), and the sender, sending
  // its latest header ten times a second, waits until they are no longer
  // acknowledged with nothing left queued: read. It waits as long as the
  // receiver acknowledges or takes bytes (a slow one catching up), at most
  // kReadWaitS; 10 s with neither is a receiver gone. (A receiver killed
  // after its socket took the end cannot be told from one that read it.)
  // A receiver that never closes (not spikevid's: srt-live-transmit, say)
  // keeps the sender the whole kReadWaitS. Otherwise (RTP, or
  // not waiting): waits while the transport still delivers (3 s without a
  // byte sent is a receiver gone), then `linger_s` more for retransmissions.
  // Idempotent.
  enum class Ending { read, gone, still_reading, not_waited };
  Ending finish(double linger_s = 1.0, bool wait_for_receiver = true);
  // The same for several senders at once (one wait for all, one linger);
  // `waiting` is told once when the wait passes 3 s.
  static std::vector<Ending> finish_all(const std::vector<MessageSender*>& senders, double linger_s,
                                        bool wait_for_receiver,
                                        const std::function<void(double)>& waiting = {});
  static constexpr double kReadWaitS = 120;
  // The receiver answered and still does (RTP, which has no answer: true).
  bool answered() const { return uri_.kind != StreamUri::Kind::srt || connected_; }
  // Times the receiver stopped answering.
  int stalls() const { return stalls_; }
  const std::string& uri() const { return uri_.text; }

 private:
  void check_transport();              // throws the bus's error
  bool wait_connected(double wait_s);  // throws after the connect timeout
  void probe();                        // gives SRT something to call with
  void push(const std::string& message);
  void watch_acknowledgements();  // SRT: a receiver that stopped answering is held for again
  void send_held();               // after an answer: the unacknowledged, then the held
  void call_again();              // SRT: a new socket now, not after the peer idle timeout
  double latency_s() const { return (uri_.latency_ms < 0 ? 120 : uri_.latency_ms) / 1000.0; }
  bool begin_finish(bool wait_for_receiver);  // false: nothing left to deliver
  void drain();                               // appsrc's end of stream, while bytes move

  StreamUri uri_;
  GstElement* pipeline_ = nullptr;
  GstElement* src_ = nullptr;
  GstElement* out_ = nullptr;
  double connect_timeout_s_ = 10;
  double silence_s_ = 1.0;  // the receiver's silent_sender_s()
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
  std::chrono::steady_clock::time_point last_call_;  // call_again()
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
