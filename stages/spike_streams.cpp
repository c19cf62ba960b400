#include "stages/spike_streams.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "io/spike_stream.h"
#include "io/spike_transport.h"
#include "stages/gpu_lane.h"

namespace spikevid {
namespace {

using Clock = std::chrono::steady_clock;

// The receiver's progress on stdout (stderr holds the one line of an error):
// listening, a stream that begins, a sender that starts again. Whoever starts
// the sender after the receiver, or waits for it, can see it.
void announce(const std::string& what) {
  const std::string line = "spikevid: " + what + "\n";
  std::cout.write(line.data(), static_cast<std::streamsize>(line.size()));
  std::cout.flush();
}

std::uint64_t random_stream_id() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
         static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
}

}  // namespace

stream::StreamHeader stream_header_of(const EncoderInfo& e, const TileGrid& g, double fps) {
  stream::StreamHeader h;
  h.encoder_id = e.id;
  const auto dash = e.id.find('-');
  h.encoder_hash = dash == std::string::npos ? e.id : e.id.substr(dash + 1);
  h.tile_rows = g.rows;
  h.tile_cols = g.cols;
  h.tile_overlap = g.overlap;
  h.cells = e.n_cells;
  h.bins = e.bins;
  h.window_s = e.window_s;
  h.fps = fps > 0 ? fps : 30;
  return h;
}

struct SpikeSender::Impl {
  std::vector<std::unique_ptr<stream::MessageSender>> senders;  // one a copy
  std::vector<std::uint64_t> stream_ids;
  stream::StreamHeader header;
  std::int64_t frames = 0;
  std::string uri;
  bool said_answered = false;  // an SRT caller says once its receiver answered (RTP: none)
  std::uint64_t next_seq = 0;  // after the last frame sent (the end of stream carries it)
  int header_every = 30;
  bool finished = false;
};

struct SpikeStreamSource::Impl {
  std::string uri;
  std::unique_ptr<stream::MessageReceiver> receiver;
  std::unique_ptr<stream::StreamHeader> header;
  double idle_timeout_s = 10;
  std::uint64_t stream_id = 0;
  std::uint64_t next_seq = 0;
  bool have_seq = false;
  // The idle timeout counts from the first next() (serve opens all its ports
  // before it reads any: 48 took 10 s here, and its first streams timed out).
  bool polled = false;
  Clock::time_point last_message = Clock::now();
  // A message came since the port was last opened: silence after it is a
  // sender that may be dead (SRT listener: listen again, silent_sender_s).
  bool heard = false;
  bool restarted = false;  // a new stream id: said at its first frame
  // The current stream's sequence numbers counted lost, [from, to): a frame
  // older than the newest is late if it is one of them, else a repeat (an
  // SRT sender sends again what a receiver may not have read).
  std::deque<std::pair<std::uint64_t, std::uint64_t>> lost;
};

SpikeSender::SpikeSender(const std::string& uri, const EncoderInfo& encoder, const TileGrid& grid,
                         double fps, int copies)
    : impl_(std::make_unique<Impl>()) {
  if (copies < 1 || copies > 1024)
    throw std::invalid_argument("--streams " + std::to_string(copies) + ": 1 to 1024");
  impl_->header = stream_header_of(encoder, grid, fps);
  impl_->header_every = std::max(1, static_cast<int>(std::lround(impl_->header.fps)));
  const auto parsed = stream::parse_stream_uri(uri, false);
  impl_->uri = uri;
  impl_->said_answered = parsed.kind != stream::StreamUri::Kind::srt;
  if (parsed.port + copies - 1 > 65535)
    throw std::invalid_argument(uri + ": ports " + std::to_string(parsed.port) + " to " +
                                std::to_string(parsed.port + copies - 1) +
                                " (one a stream) go beyond 65535");
  for (int k = 0; k < copies; ++k) {
    impl_->stream_ids.push_back(random_stream_id() + static_cast<std::uint64_t>(k));
    impl_->senders.push_back(std::make_unique<stream::MessageSender>(
        k == 0 ? parsed : stream::parse_stream_uri(stream::uri_with_port_offset(parsed, k), false),
        10.0, stream::silent_sender_s(impl_->header.fps)));
  }
  announce(uri + (parsed.kind != stream::StreamUri::Kind::srt ? ": sending"
                  : parsed.listener ? ": listening (frames are held until the receiver calls)"
                                    : ": calling (frames are held until the receiver answers)"));
}

std::int64_t SpikeSender::frames() const { return impl_->frames; }

bool SpikeSender::answered() const {
  for (const auto& s : impl_->senders)
    if (!s->answered()) return false;
  return true;
}

SpikeSender::~SpikeSender() {
  try {
    finish(false);
  } catch (...) {
  }
}

SpikesPtr SpikeSender::process(SpikesPtr s) {
  host_wait(s->ready);  // on the CUDA path, the encode stage's stream may still be drawing them
  auto& i = *impl_;
  // [T,bins,N], the stream's order (tile, bin, cell).
  auto c = s->counts.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  for (std::size_t k = 0; k < i.senders.size(); ++k) {
    if (i.frames % i.header_every == 0)
      i.senders[k]->send(stream::header_message(i.header, i.stream_ids[k], s->meta.seq));
    i.senders[k]->send(stream::frame_message(i.stream_ids[k], s->meta.seq, s->pts_ns,
                                             c.data_ptr<float>(),
                                             static_cast<std::size_t>(c.numel())));
  }
  ++i.frames;
  i.next_seq = s->meta.seq + 1;
  const bool now_answered = answered();
  if (i.said_answered && !now_answered) {
    i.said_answered = false;
    announce(i.uri + ": the receiver stopped answering; frames are held until it answers again");
  }
  if (!i.said_answered && now_answered) {
    i.said_answered = true;
    announce(i.uri + ": the receiver answered");
  }
  return s;
}

void SpikeSender::finish(bool wait_for_receiver) {
  auto& i = *impl_;
  if (i.finished || i.senders.empty()) return;
  i.finished = true;
  for (std::size_t k = 0; k < i.senders.size(); ++k)
    i.senders[k]->send(stream::end_message(i.stream_ids[k], i.next_seq));
  // All at once: one wait for every receiver to read its end, one linger.
  std::vector<stream::MessageSender*> senders;
  for (auto& s : i.senders) senders.push_back(s.get());
  const auto endings =
      stream::MessageSender::finish_all(senders, 1.0, wait_for_receiver, [&](double) {
        announce(i.uri + ": waiting for the receiver to read what it was sent (at most " +
                 std::to_string(static_cast<int>(stream::MessageSender::kReadWaitS)) +
                 " s; Ctrl-C twice stops now)");
      });
  for (std::size_t k = 0; k < endings.size(); ++k) {
    using E = stream::MessageSender::Ending;
    if (endings[k] != E::gone && endings[k] != E::still_reading) continue;
    std::cerr << "spikevid: " << senders[k]->uri()
              << (endings[k] == E::gone
                      ? ": the receiver stopped answering before it read the end of stream; it "
                        "may have missed the last frames\n"
                      : ": the receiver was still reading after " +
                            std::to_string(static_cast<int>(stream::MessageSender::kReadWaitS)) +
                            " s; it may miss the last frames\n");
  }
}

SpikeStreamSource::SpikeStreamSource(const std::string& uri, const std::string& encoder_spec,
                                     double idle_timeout_s, const std::atomic<bool>* stop,
                                     bool wait_for_header)
    : SpikeStreamSource(uri, load_encoder(encoder_spec, torch::kCPU)->info(), encoder_spec,
                        idle_timeout_s, stop, wait_for_header) {}

SpikeStreamSource::SpikeStreamSource(const std::string& uri, const EncoderInfo& encoder,
                                     const std::string& encoder_spec, double idle_timeout_s,
                                     const std::atomic<bool>* stop, bool wait_for_header)
    : impl_(std::make_unique<Impl>()) {
  auto& i = *impl_;
  i.uri = uri;
  i.idle_timeout_s = idle_timeout_s;
  encoder_ = encoder;
  encoder_spec_ = encoder_spec;
  const auto parsed = stream::parse_stream_uri(uri, true);
  i.receiver = std::make_unique<stream::MessageReceiver>(parsed);
  announce(uri + (parsed.kind == stream::StreamUri::Kind::srt && !parsed.listener ? ": calling"
                                                                                  : ": listening"));
  while (wait_for_header && !i.header) {
    if (stop && stop->load()) throw std::runtime_error(uri + ": stopped before a stream came");
    if (!next(0.1))
      throw std::runtime_error(uri + ": no stream header within " +
                               std::to_string(static_cast<int>(idle_timeout_s)) +
                               " s (--idle-timeout; is the sender running?)");
  }
}

SpikeStreamSource::~SpikeStreamSource() = default;

void SpikeStreamSource::close() { impl_->receiver.reset(); }

bool SpikeStreamSource::started() const { return impl_->header != nullptr; }

void SpikeStreamSource::take_header(const stream::Message& msg) {
  auto& i = *impl_;
  const auto& h = msg.header;
  if (h.encoder_id != encoder_.id)
    throw std::runtime_error(i.uri + ": the stream's encoder is " + h.encoder_id + ", not " +
                             encoder_.id + " (" + encoder_spec_ + "; give --encoder)");
  if (h.cells != encoder_.n_cells)
    throw std::runtime_error(i.uri + ": the stream has " + std::to_string(h.cells) +
                             " cells a tile, " + encoder_spec_ + " " +
                             std::to_string(encoder_.n_cells));
  i.header = std::make_unique<stream::StreamHeader>(h);
  i.stream_id = msg.stream_id;
  // Bins and window are the sender's settings (encode --bins), as a spike
  // file's are; a decoder trained with others says so when it is loaded.
  encoder_.bins = h.bins;
  encoder_.window_s = h.window_s;
  grid_ = TileGrid{h.tile_rows, h.tile_cols, encoder_.image_size, h.tile_overlap};
  fps_ = h.fps;
  announce(i.uri + ": a stream began (" + h.encoder_id + ", " + std::to_string(h.tile_rows) + "x" +
           std::to_string(h.tile_cols) + " tiles, " + std::to_string(std::lround(h.fps)) +
           " frames/s)");
}

void SpikeStreamSource::count_malformed(const std::string& why) {
  if (++counts_.malformed <= 5 || counts_.malformed % 100 == 0)
    std::cerr << "spikevid: " << impl_->uri << ": dropped a message (" << why << "; "
              << counts_.malformed << " so far)\n";
}

bool SpikeStreamSource::refused_gap(const stream::Message& msg) {
  // 2^24 frames: six days at 30 frames/s, far beyond any idle timeout.
  constexpr std::uint64_t kMostFramesSkipped = std::uint64_t{1} << 24;
  const auto next = impl_->next_seq;
  if (msg.seq <= next || msg.seq - next <= kMostFramesSkipped) return false;
  count_malformed("sequence number " + std::to_string(msg.seq) + " is " +
                  std::to_string(msg.seq - next) + " ahead of the stream's " +
                  std::to_string(next));
  return true;
}

std::string SpikeStreamSource::describe_counts() const {
  return std::to_string(counts_.frames) + " frames received, " + std::to_string(counts_.lost) +
         " lost, " + std::to_string(counts_.late) + " late, " + std::to_string(counts_.repeated) +
         " repeated, " + std::to_string(counts_.malformed) + " malformed messages dropped, " +
         std::to_string(counts_.skipped_bytes) + " bytes skipped, " +
         std::to_string(counts_.restarts) + " sender restarts";
}

std::optional<SpikesPtr> SpikeStreamSource::next(double timeout_s) {
  auto& i = *impl_;
  if (!i.receiver) return std::nullopt;  // closed
  if (!i.polled) {
    i.polled = true;
    i.last_message = Clock::now();
  }
  const auto m = i.receiver->next(timeout_s);
  counts_.skipped_bytes = i.receiver->skipped_bytes();
  if (!m) {
    const double idle = std::chrono::duration<double>(Clock::now() - i.last_message).count();
    std::string why;            // not empty: listen again, saying why
    if (i.receiver->ended()) {  // the transport closed (SRT: the caller went)
      why = "the sender closed the connection without an end of stream";
      if (!i.receiver->can_listen_again()) {
        std::cerr << "spikevid: " << i.uri << ": " << why << "; finishing\n";
        return std::nullopt;
      }
    } else if (i.heard && i.header && i.receiver->can_listen_again() &&
               idle > stream::silent_sender_s(fps_)) {
      // SRT notices a dead sender only after 5 s, and a sender started again
      // meanwhile is acknowledged unread (silent_sender_s): listen again now.
      // A live sender that was only silent calls again, and sends again what
      // this port may not have read.
      std::ostringstream says;
      says << "no message for " << std::fixed << std::setprecision(1) << idle
           << " s from a sender that was sending";
      why = says.str();
    }
    if (!why.empty()) {
      std::cerr << "spikevid: " << i.uri << ": " << why << "; listening again for up to "
                << i.idle_timeout_s << " s (--idle-timeout)\n";
      i.receiver->listen_again();
      i.heard = false;
    }
    if (idle > i.idle_timeout_s) {
      if (i.header)
        std::cerr << "spikevid: " << i.uri << ": no message for " << i.idle_timeout_s
                  << " s; finishing\n";
      return std::nullopt;
    }
    return SpikesPtr{};
  }
  i.last_message = Clock::now();
  i.heard = true;
  stream::Message msg;
  try {
    msg = stream::parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size(),
                                i.header.get());
    const auto& h = msg.header;
    if (i.header && msg.type == stream::MessageType::header &&
        (h.encoder_id != i.header->encoder_id || h.tile_rows != i.header->tile_rows ||
         h.tile_cols != i.header->tile_cols || h.tile_overlap != i.header->tile_overlap ||
         h.cells != i.header->cells || h.bins != i.header->bins))
      throw stream::StreamError("header: another encoder, tile grid or bins than the stream's");
  } catch (const stream::StreamError& e) {
    count_malformed(e.what());
    return SpikesPtr{};
  }
  if (!i.header) {  // frames before the header are not ours yet
    if (msg.type == stream::MessageType::header) take_header(msg);
    return SpikesPtr{};
  }
  if (msg.type == stream::MessageType::end) {
    if (msg.stream_id != i.stream_id) return SpikesPtr{};  // an earlier sender's
    // It carries the number after the sender's last frame: frames at the end
    // that never came (SRT drops what it still holds when it gives up) are
    // lost as a gap is, not silently.
    if (i.have_seq && msg.seq > i.next_seq && !refused_gap(msg))
      counts_.lost += static_cast<std::int64_t>(msg.seq - i.next_seq);
    // Closed now: that is how an SRT sender learns the end was read (it
    // waits for it: its acknowledgements say only that the bytes arrived).
    i.receiver.reset();
    return std::nullopt;
  }
  if (msg.stream_id != i.stream_id) {  // the sender started again
    ++counts_.restarts;
    i.stream_id = msg.stream_id;
    i.have_seq = false;
    i.restarted = true;
    i.lost.clear();
  }
  if (msg.type != stream::MessageType::frame) return SpikesPtr{};
  if (i.restarted) {
    // Said at its first frame (a header may come first: an SRT sender that
    // waits for an answer calls with its latest one). From its frame 0: it
    // lost nothing of its start.
    i.restarted = false;
    announce(i.uri + ": a new stream (the sender started again), from its frame " +
             std::to_string(msg.seq));
  }
  if (i.have_seq && msg.seq < i.next_seq) {
    const bool was_lost = std::any_of(i.lost.begin(), i.lost.end(), [&](const auto& r) {
      return msg.seq >= r.first && msg.seq < r.second;
    });
    ++(was_lost ? counts_.late : counts_.repeated);
    return SpikesPtr{};
  }
  // A forged or corrupt number far ahead would count billions lost and make
  // every later frame of the stream late: it is dropped as malformed.
  if (i.have_seq && refused_gap(msg)) return SpikesPtr{};
  if (i.have_seq && msg.seq > i.next_seq) {
    counts_.lost += static_cast<std::int64_t>(msg.seq - i.next_seq);
    i.lost.emplace_back(i.next_seq, msg.seq);
    if (i.lost.size() > 256) i.lost.pop_front();
  }
  i.next_seq = msg.seq + 1;
  i.have_seq = true;
  ++counts_.frames;
  const int tiles = grid_.rows * grid_.cols;
  auto c = torch::empty({tiles, i.header->bins, i.header->cells}, torch::kFloat32);
  std::copy(msg.counts.begin(), msg.counts.end(), c.data_ptr<float>());
  auto s = std::make_unique<Spikes>();
  s->counts = c;
  s->pts_ns = msg.timestamp_ns;
  // The sender's number (serve keeps it: a temporal decoder's state sees the network's gaps and a
  // restarted sender; the line's source runner numbers frames its own way).
  s->meta.seq = msg.seq;
  return s;
}

}  // namespace spikevid
