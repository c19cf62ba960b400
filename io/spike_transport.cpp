// srtsink lists a listener's callers in a GValueArray.
#define GLIB_DISABLE_DEPRECATION_WARNINGS
#include "io/spike_transport.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <utility>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include "io/gst_util.h"
#include "io/spike_stream.h"

namespace spikevid::stream {
namespace {

constexpr const char* kRtpCaps =
    "application/x-rtp,media=application,clock-rate=90000,encoding-name=X-GST";

int parse_port(const std::string& uri, const std::string& text) {
  std::size_t used = 0;
  int port = -1;
  try {
    port = std::stoi(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || port < 1 || port > 65535)
    throw std::runtime_error(uri + ": the port must be a number from 1 to 65535");
  return port;
}

// The URI for srtsink/srtsrc: srt://HOST:PORT?mode=...&latency=...&passphrase=...
std::string srt_element_uri(const StreamUri& u) {
  std::string s = "srt://" + u.host + ":" + std::to_string(u.port) +
                  "?mode=" + (u.listener ? "listener" : "caller");
  if (u.latency_ms >= 0) s += "&latency=" + std::to_string(u.latency_ms);
  if (!u.passphrase.empty()) s += "&passphrase=" + u.passphrase;
  return s;
}

// Sets `pipeline` playing; an error on its bus within `wait_s` (a port in
// use, a host that does not resolve) is thrown as one line.
void start(GstElement* pipeline, const std::string& name, double wait_s) {
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    const auto why = bus_error(pipeline);
    throw std::runtime_error(name + ": " + (why.empty() ? "cannot start" : why));
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(wait_s * GST_SECOND),
                                               GST_MESSAGE_ERROR);
  gst_object_unref(bus);
  if (msg) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    const std::string why = err ? err->message : "stream error";
    if (err) g_error_free(err);
    gst_message_unref(msg);
    throw std::runtime_error(name + ": " + why);
  }
}

// Bytes srtsink has sent so far (its "stats"), 0 if it cannot say.
std::uint64_t srt_bytes_sent(GstElement* sink) {
  GstStructure* stats = nullptr;
  g_object_get(sink, "stats", &stats, nullptr);
  if (!stats) return 0;
  std::uint64_t sent = 0;
  guint64 u = 0;
  gint64 i = 0;
  if (gst_structure_get_uint64(stats, "bytes-sent-total", &u))
    sent = u;
  else if (gst_structure_get_int64(stats, "bytes-sent-total", &i) && i > 0)
    sent = static_cast<std::uint64_t>(i);
  gst_structure_free(stats);
  return sent;
}

// Whether an SRT sink has a peer: its statistics hold the socket's counters
// (a caller's, or a listener's `callers`) only once the handshake is done;
// before, it drops what it is given.
bool srt_connected(GstElement* sink) {
  GstStructure* stats = nullptr;
  g_object_get(sink, "stats", &stats, nullptr);
  if (!stats) return false;
  const bool connected =
      gst_structure_has_field(stats, "packets-sent") || gst_structure_has_field(stats, "callers");
  gst_structure_free(stats);
  return connected;
}

// Acknowledgements an SRT sink's socket has received (a new socket, after a
// reconnection, counts from 0 again); -1 where no socket is connected. A
// listener's: those of its callers, together.
std::int64_t srt_acks(GstElement* sink) {
  GstStructure* stats = nullptr;
  g_object_get(sink, "stats", &stats, nullptr);
  if (!stats) return -1;
  gint acks = -1;
  if (!gst_structure_get_int(stats, "packet-ack-received", &acks)) acks = -1;
  const GValue* callers = gst_structure_get_value(stats, "callers");
  if (callers && G_VALUE_HOLDS(callers, G_TYPE_VALUE_ARRAY)) {
    auto* list = static_cast<GValueArray*>(g_value_get_boxed(callers));
    for (guint k = 0; list && k < list->n_values; ++k) {
      const GValue* v = g_value_array_get_nth(list, k);
      gint n = 0;
      if (v && GST_VALUE_HOLDS_STRUCTURE(v) &&
          gst_structure_get_int(gst_value_get_structure(v), "packet-ack-received", &n))
        acks = std::max(acks, 0) + n;
    }
  }
  gst_structure_free(stats);
  return acks;
}

// How long a caller that a closed SRT listener had answered (in its backlog,
// never accepted) is still acknowledged: libsrt closes the queue of a closed
// listener after 3 s, at its next collection (each second); measured here,
// 4.5 s after srtsrc closed its listener.
constexpr double kBacklogAnswersS = 6.0;

bool is_header(const std::string& message) {
  return message.size() > 4 && message[4] == static_cast<char>(stream::MessageType::header);
}

// Warnings (SRT's "Trying to reconnect") pile up on the bus while nobody
// listens: drop them.
void drop_warnings(GstElement* pipeline) {
  GstBus* bus = gst_element_get_bus(pipeline);
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) gst_message_unref(msg);
  gst_object_unref(bus);
}

}  // namespace

StreamUri parse_stream_uri(const std::string& uri, bool receiver) {
  StreamUri u;
  u.text = uri;
  std::string rest;
  if (uri.rfind("srt://", 0) == 0) {
    u.kind = StreamUri::Kind::srt;
    rest = uri.substr(6);
    u.listener = receiver;
  } else if (uri.rfind("rtp://", 0) == 0) {
    u.kind = StreamUri::Kind::rtp;
    rest = uri.substr(6);
  } else {
    throw std::runtime_error(uri + ": not a stream URI (srt://HOST:PORT or rtp://HOST:PORT)");
  }
  std::string query;
  if (const auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(uri + ": no port (HOST:PORT)");
  u.host = rest.substr(0, colon);
  u.port = parse_port(uri, rest.substr(colon + 1));
  if (u.host.empty()) u.host = receiver ? "0.0.0.0" : "";
  if (u.host.empty()) throw std::runtime_error(uri + ": no host to send to");
  for (const char c : u.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
      throw std::runtime_error(uri + ": the host may hold letters, digits, '.', '-' only");
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string::npos ? std::string() : query.substr(amp + 1);
    const auto eq = item.find('=');
    const auto key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (u.kind == StreamUri::Kind::rtp)
      throw std::runtime_error(uri + ": rtp:// takes no options ('" + key + "')");
    if (key == "mode" && (value == "caller" || value == "listener")) {
      u.listener = value == "listener";
    } else if (key == "latency") {
      u.latency_ms = parse_port(uri, value);  // 1..65535 ms
    } else if (key == "passphrase") {
      if (value.size() < 10 || value.size() > 79)
        throw std::runtime_error(uri + ": SRT's passphrase takes 10 to 79 characters");
      for (const char c : value)
        if (!std::isalnum(static_cast<unsigned char>(c)))
          throw std::runtime_error(uri + ": the passphrase may hold letters and digits only");
      u.passphrase = value;
    } else {
      throw std::runtime_error(uri + ": unknown option '" + item +
                               "' (mode=caller|listener, latency=MS, passphrase=P)");
    }
  }
  return u;
}

std::string uri_with_port_offset(const StreamUri& u, int k) {
  const auto scheme_end = u.text.find("://") + 3;
  const auto query = u.text.find('?', scheme_end);
  const std::string head = u.text.substr(0, query);
  const auto colon = head.rfind(':');
  return head.substr(0, colon + 1) + std::to_string(u.port + k) +
         (query == std::string::npos ? "" : u.text.substr(query));
}

double silent_sender_s(double fps) { return std::max(1.0, fps > 0 ? 5.0 / fps : 1.0); }

MessageSender::MessageSender(const StreamUri& uri, double connect_timeout_s, double silence_s)
    : uri_(uri), silence_s_(silence_s) {
  gst_init_once();
  std::string out;
  if (uri.kind == StreamUri::Kind::srt) {
    out = "srtsink name=out sync=false wait-for-connection=false uri=\"" + srt_element_uri(uri) +
          "\"";
  } else {
    out = "rtpgstpay config-interval=1 mtu=1400 ! udpsink name=out sync=false async=false host=" +
          uri.host + " port=" + std::to_string(uri.port);
  }
  connect_timeout_s_ = connect_timeout_s;
  started_ = std::chrono::steady_clock::now();
  pipeline_ = parse_pipeline(
      "appsrc name=src is-live=true format=time do-timestamp=true max-bytes=4194304 "
      "caps=application/x-spikevid-stream ! " +
          out,
      uri.text);
  src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
  out_ = gst_bin_get_by_name(GST_BIN(pipeline_), "out");
  try {
    start(pipeline_, uri.text, 0.2);
  } catch (...) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(out_);
    gst_object_unref(pipeline_);
    pipeline_ = nullptr;
    throw;
  }
}

MessageSender::~MessageSender() {
  try {
    finish(0.2, false);
  } catch (...) {
  }
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(out_);
    gst_object_unref(pipeline_);
  }
}

void MessageSender::send(const std::string& message) {
  if (finished_) throw std::logic_error(uri_.text + ": send after finish");
  check_transport();
  // The probe, whichever way this one goes (held, or not).
  if (is_header(message)) last_header_ = message;
  // Until SRT's handshake is done its sink drops what it is given, silently:
  // hold the messages (a receiver that starts a little late, or is slow to
  // start, misses nothing), and fail once nobody has answered within the
  // connect timeout. A receiver that stops acknowledging later is held for
  // the same way (watch_acknowledgements).
  if (uri_.kind != StreamUri::Kind::srt) {
    push(message);
    return;
  }
  if (connected_) watch_acknowledgements();
  if (!connected_) {
    held_.push_back(message);
    if (!wait_connected(0)) return;
    send_held();
    return;
  }
  push(message);
  const auto now = std::chrono::steady_clock::now();
  unacked_.emplace_back(now, message);
  if (!unanswered_since_) unanswered_since_ = now;
}

void MessageSender::watch_acknowledgements() {
  using Clock = std::chrono::steady_clock;
  const auto now = Clock::now();
  const auto acks = srt_acks(out_);
  const double latency_s = this->latency_s();
  if (acks >= 0 && acks_ >= 0 && acks < acks_) {
    // Fewer than before: a new socket (srtsink reconnected on its own, its
    // peer closed the old one). What went into the old one since its last
    // acknowledgement may be gone: send it again.
    for (const auto& [when, m] : unacked_) push(m);
  }
  if (acks >= 0 && acks != acks_) {
    acks_ = acks;
    unanswered_since_.reset();
    // What was pushed well before this acknowledgement has arrived and left
    // SRT's latency buffer, unless a listener acknowledged it from its
    // backlog, unread: a caller that came while the receiver still held a
    // dead one, before it listened again (silence_s_), goes on being
    // answered for kBacklogAnswersS after the listener closed.
    const auto kept =
        std::chrono::duration<double>(silence_s_ + kBacklogAnswersS + 0.5 + latency_s);
    while (!unacked_.empty() && now - unacked_.front().first > kept) unacked_.pop_front();
  }
  if (acks >= 0 &&
      (!unanswered_since_ ||
       std::chrono::duration<double>(now - *unanswered_since_).count() < 1.0 + latency_s))
    return;
  // No socket, or sent for a second and more with nothing acknowledged: the
  // receiver is gone (killed, or it listens again). SRT would notice after
  // its peer idle timeout (5 s) and reconnect: call again now, and hold until
  // a socket answers.
  connected_ = false;
  ++stalls_;
  started_ = now;
  call_again();
}

void MessageSender::call_again() {
  // A listener is called again by its receiver (srtsrc reconnects): it
  // waits, keeping the socket any caller may be on.
  if (uri_.listener) return;
  last_call_ = std::chrono::steady_clock::now();
  // What appsrc still queued is in unacked_ too, and is sent again.
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  drop_warnings(pipeline_);
  start(pipeline_, uri_.text, 0);
}

void MessageSender::send_held() {
  for (const auto& [when, m] : unacked_) push(m);  // after a stall: what may not have arrived
  const auto now = std::chrono::steady_clock::now();
  for (auto& m : held_) {
    push(m);
    unacked_.emplace_back(now, std::move(m));
  }
  held_.clear();
  unanswered_since_.reset();
  if (!unacked_.empty()) unanswered_since_ = now;
}

void MessageSender::check_transport() {
  const auto why = bus_error(pipeline_);
  if (!why.empty()) throw std::runtime_error(uri_.text + ": " + why);
  drop_warnings(pipeline_);
}

bool MessageSender::wait_connected(double wait_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
  for (;;) {
    // Not connected: never yet, or after a stall (watch_acknowledgements).
    const auto acks = srt_acks(out_);
    // After a stall, an acknowledgement: from a new socket (which shows its
    // counters, at 0, before its handshake is done) or the old one again.
    connected_ = stalls_ == 0 ? srt_connected(out_) : acks > 0 && acks != acks_;
    if (connected_) {
      acks_ = acks;
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    const std::chrono::duration<double> waited = now - started_;
    // After a stall, a socket that has not answered within 2 s is called
    // again: srtsink 1.22 does not always retry a new one whose handshake
    // failed (seen here: "Connection does not exist" at once, then silence).
    if (stalls_ > 0 && now - last_call_ > std::chrono::seconds(2)) call_again();
    if (waited.count() > connect_timeout_s_)
      throw std::runtime_error(
          uri_.text + (stalls_ ? ": the receiver stopped answering and " : ": ") +
          "nobody answered within " + std::to_string(static_cast<int>(connect_timeout_s_)) +
          " s (is the receiver running and listening?)");
    probe();
    if (std::chrono::steady_clock::now() >= until) return false;
    g_usleep(20000);
    check_transport();
  }
}

void MessageSender::probe() {
  // srtsink calls only when it has something to send, and drops that: give
  // it the latest header (a receiver takes a repeated header as the sender's
  // periodic one; a frame could arrive before older ones held), ten times a
  // second.
  const auto now = std::chrono::steady_clock::now();
  if (last_header_.empty() || now - last_probe_ < std::chrono::milliseconds(100)) return;
  last_probe_ = now;
  push(last_header_);
}

void MessageSender::push(const std::string& message) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, message.size(), nullptr);
  gst_buffer_fill(buf, 0, message.data(), message.size());
  if (gst_app_src_push_buffer(GST_APP_SRC(src_), buf) != GST_FLOW_OK) {
    const auto err = bus_error(pipeline_);
    throw std::runtime_error(uri_.text + ": " + (err.empty() ? "the stream stopped" : err));
  }
}

MessageSender::Ending MessageSender::finish(double linger_s, bool wait_for_receiver) {
  return finish_all({this}, linger_s, wait_for_receiver).front();
}

bool MessageSender::begin_finish(bool wait_for_receiver) {
  if (finished_ || !pipeline_) return false;
  finished_ = true;
  const bool srt = uri_.kind == StreamUri::Kind::srt;
  // Messages held for a receiver not yet there: wait for it (at most the
  // connect timeout, then the one-line error) and send them, or drop them.
  if (srt && connected_) watch_acknowledgements();
  if (srt && !held_.empty()) {
    if (wait_for_receiver) wait_connected(connect_timeout_s_ + 1);
    if (connected_) send_held();
    held_.clear();
  }
  if (srt && !connected_) {  // nothing was sent, nothing is left to deliver
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    return false;
  }
  return true;
}

namespace {

// Bytes still queued in appsrc, and (SRT) bytes the socket has sent so far:
// while either moves, the transport is still delivering.
std::pair<std::uint64_t, std::uint64_t> progress_mark(GstElement* src, GstElement* sink, bool srt) {
  guint64 queued = 0;
  g_object_get(src, "current-level-bytes", &queued, nullptr);
  return {static_cast<std::uint64_t>(queued), srt ? srt_bytes_sent(sink) : 0};
}

}  // namespace

void MessageSender::drain() {
  const bool srt = uri_.kind == StreamUri::Kind::srt;
  using Clock = std::chrono::steady_clock;
  auto last = progress_mark(src_, out_, srt);
  auto moved = Clock::now();
  auto still_moving = [&](double quiet_s) {
    const auto now_mark = progress_mark(src_, out_, srt);
    if (now_mark != last) {
      last = now_mark;
      moved = Clock::now();
    }
    return std::chrono::duration<double>(Clock::now() - moved).count() < quiet_s;
  };
  // The end of stream reaches the sink after every message queued before it.
  // A receiver that reads slowly holds them back (SRT's flow control), so
  // wait as long as bytes keep leaving; 3 s without any is a receiver gone.
  gst_app_src_end_of_stream(GST_APP_SRC(src_));
  GstBus* bus = gst_element_get_bus(pipeline_);
  for (;;) {
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus, GST_SECOND / 10, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (msg) {
      gst_message_unref(msg);
      break;
    }
    if (!still_moving(3.0)) break;
  }
  gst_object_unref(bus);
  // SRT drops what its socket still holds when it closes: wait until it has
  // sent everything (0.3 s without a byte; at most 10 s).
  if (srt) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    moved = Clock::now();
    while (Clock::now() < until && still_moving(0.3)) g_usleep(20000);
  }
}

std::vector<MessageSender::Ending> MessageSender::finish_all(
    const std::vector<MessageSender*>& senders, double linger_s, bool wait_for_receiver,
    const std::function<void(double)>& waiting) {
  using Clock = std::chrono::steady_clock;
  std::vector<Ending> ending(senders.size(), Ending::not_waited);
  std::vector<bool> open(senders.size(), false);
  for (std::size_t k = 0; k < senders.size(); ++k)
    open[k] = senders[k]->begin_finish(wait_for_receiver);
  // SRT: until each receiver has read the end of stream and closed (see the
  // header). Acknowledgements and bytes are read before each probe, so that
  // "nothing queued" is not the probe itself.
  struct Watch {
    std::int64_t acks = -2;
    std::pair<std::uint64_t, std::uint64_t> mark{~0ull, ~0ull};
    Clock::time_point acked, moved;
    bool watched = false;
  };
  std::vector<Watch> watch(senders.size());
  const auto t0 = Clock::now();
  for (std::size_t k = 0; k < senders.size(); ++k) {
    // A stream without a header has nothing to probe with: drained instead.
    watch[k].watched = open[k] && wait_for_receiver &&
                       senders[k]->uri_.kind == StreamUri::Kind::srt &&
                       !senders[k]->last_header_.empty();
    watch[k].acked = watch[k].moved = t0;
  }
  bool said = false;
  for (;;) {
    const auto now = Clock::now();
    bool any = false;
    for (std::size_t k = 0; k < senders.size(); ++k) {
      auto& w = watch[k];
      if (!w.watched || ending[k] != Ending::not_waited) continue;
      MessageSender& s = *senders[k];
      const double quiet_s = 1.0 + s.latency_s();
      // An error: srtsink gave up on a peer that closed.
      const bool failed = !bus_error(s.pipeline_).empty();
      drop_warnings(s.pipeline_);
      const auto acks = srt_acks(s.out_);
      const auto mark = progress_mark(s.src_, s.out_, true);
      if (acks != w.acks) w.acks = acks, w.acked = now;
      if (mark != w.mark) w.mark = mark, w.moved = now;
      const double since_ack = std::chrono::duration<double>(now - w.acked).count();
      const double since_move = std::chrono::duration<double>(now - w.moved).count();
      if (failed || (mark.first == 0 && since_ack > quiet_s)) {
        ending[k] = Ending::read;
      } else if (std::min(since_ack, since_move) > 10.0) {
        ending[k] = Ending::gone;
      } else if (std::chrono::duration<double>(now - t0).count() > kReadWaitS) {
        ending[k] = Ending::still_reading;
      } else {
        try {
          s.probe();
        } catch (const std::runtime_error&) {  // the pipeline stopped: nothing more goes
          ending[k] = Ending::read;
        }
      }
      any = any || ending[k] == Ending::not_waited;
    }
    if (!any) break;
    const double waited = std::chrono::duration<double>(now - t0).count();
    if (!said && waited > 3.0) {
      said = true;
      if (waiting) waiting(waited);
    }
    g_usleep(20000);
  }
  // The rest: RTP, or not waited for (SRT's still reading after the wait
  // too: its end of stream goes, as far as it can).
  bool drained = false;
  for (std::size_t k = 0; k < senders.size(); ++k) {
    if (open[k] && (ending[k] == Ending::not_waited || ending[k] == Ending::still_reading)) {
      senders[k]->drain();
      drained = true;
    }
  }
  // One linger for all, for the retransmissions of the last packets.
  if (drained) g_usleep(static_cast<gulong>(linger_s * 1e6));
  for (std::size_t k = 0; k < senders.size(); ++k)
    if (open[k]) gst_element_set_state(senders[k]->pipeline_, GST_STATE_NULL);
  return ending;
}

struct MessageReceiver::Impl {
  GstElement* pipeline = nullptr;
  GstElement* sink = nullptr;
  MessageAssembler assembler;
  std::uint64_t skipped_before = 0;  // by the assemblers before listen_again()
  ~Impl() {
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      if (sink) gst_object_unref(sink);
      gst_object_unref(pipeline);
    }
  }
};

MessageReceiver::MessageReceiver(const StreamUri& uri)
    : uri_(uri), impl_(std::make_unique<Impl>()) {
  gst_init_once();
  std::string in;
  if (uri.kind == StreamUri::Kind::srt) {
    // poll-timeout: srtsrc waits for a packet 0.1 s at a time, not forever,
    // so that listen_again() and the destructor do not block until SRT
    // notices a dead caller (5 s); meanwhile the old listener still answers.
    in = "srtsrc name=in uri=\"" + srt_element_uri(uri) + "&poll-timeout=100\"";
  } else {
    in = "udpsrc name=in reuse=false address=" + uri.host + " port=" + std::to_string(uri.port) +
         " caps=\"" + kRtpCaps + "\" ! rtpgstdepay";
  }
  impl_->pipeline = parse_pipeline(
      in + " ! appsink name=sink sync=false max-buffers=256 drop=false emit-signals=false",
      uri.text);
  impl_->sink = gst_bin_get_by_name(GST_BIN(impl_->pipeline), "sink");
  // A port in use fails the state change itself; later errors (a caller's
  // connection) come out of next(). No wait here: serve opens one a stream.
  start(impl_->pipeline, uri.text, 0);
}

MessageReceiver::~MessageReceiver() = default;

void MessageReceiver::listen_again() {
  if (uri_.kind != StreamUri::Kind::srt || !uri_.listener)
    throw std::logic_error(uri_.text + ": only an SRT listener listens again");
  // NULL closes the socket; PLAYING binds the port anew and waits for a caller.
  gst_element_set_state(impl_->pipeline, GST_STATE_NULL);
  impl_->skipped_before += impl_->assembler.skipped_bytes();
  impl_->assembler = MessageAssembler{};
  ended_ = false;
  start(impl_->pipeline, uri_.text, 0);
}

std::uint64_t MessageReceiver::skipped_bytes() const {
  return impl_->skipped_before + impl_->assembler.skipped_bytes();
}

std::optional<std::string> MessageReceiver::next(double timeout_s) {
  std::string m;
  if (impl_->assembler.next(m)) return m;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!ended_) {
    const auto why = bus_error(impl_->pipeline);
    if (!why.empty()) throw std::runtime_error(uri_.text + ": " + why);
    const double left =
        std::chrono::duration<double>(until - std::chrono::steady_clock::now()).count();
    // A timeout of 0 still takes what has arrived.
    GstSample* sample = gst_app_sink_try_pull_sample(
        GST_APP_SINK(impl_->sink),
        static_cast<GstClockTime>(std::clamp(left, 0.0, 0.1) * GST_SECOND));
    if (!sample) {
      if (gst_app_sink_is_eos(GST_APP_SINK(impl_->sink)))
        ended_ = true;
      else if (left <= 0)
        return std::nullopt;
      continue;
    }
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
      impl_->assembler.feed(map.data, map.size);
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    if (impl_->assembler.next(m)) return m;
  }
  return std::nullopt;
}

}  // namespace spikevid::stream
