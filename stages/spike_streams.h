#pragma once
// Spike streams as stages of the line (messages: io/spike_stream.h;
// transport, srt:// or rtp://: io/spike_transport.h):
//   SpikeSender — Inputs and outputs: SpikesPtr, passed on unchanged after
//     their counts were sent as one frame message. The header goes first and
//     again every second (so a receiver that joins late starts within one);
//     finish() sends the end of stream. Blocking: no (GStreamer queues).
//   SpikeStreamSource — Outputs: SpikesPtr (counts [T,bins,N] on the CPU).
//     Waits for the stream's header when made; then each frame message
//     becomes one Spikes. A malformed or hostile message is counted and
//     dropped with a one-line warning; a gap in sequence numbers (lost or
//     late messages) is counted as frames lost, never waited for; a sender
//     that restarts (a new stream id, the same encoder and tiles) is
//     followed, and an SRT listener whose caller went without an end of
//     stream listens again. The end of stream, or no message for
//     `idle_timeout_s` (counted from the first next()), ends it. Blocking: at most the timeout
//     given to next() (0.1 s by default; a stop is noticed).
// Threading: one thread at a time.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "models/encoder.h"
#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {
namespace stream {
struct Message;
struct StreamHeader;
}  // namespace stream

// The stream's header for spikes of `encoder` on `grid` at `fps` (the
// encoder's hash: its id after the dash).
stream::StreamHeader stream_header_of(const EncoderInfo& encoder, const TileGrid& grid, double fps);

class SpikeSender {
 public:
  // Throws std::runtime_error with one line (a bad URI; see spike_transport.h).
  // `copies` > 1: the same frames also go to PORT + 1, ..., each copy a
  // stream of its own (so one process can load `serve` like many senders).
  SpikeSender(const std::string& uri, const EncoderInfo& encoder, const TileGrid& grid, double fps,
              int copies = 1);
  ~SpikeSender();  // finish(false); never throws
  SpikesPtr process(SpikesPtr spikes);
  // The end of stream, then the transport closed. Idempotent. Frames held
  // for an SRT receiver that has not answered yet are waited for (at most the
  // connect timeout, then std::runtime_error), or with `wait_for_receiver`
  // false (Ctrl-C, an error) dropped.
  void finish(bool wait_for_receiver = true);
  std::int64_t frames() const;
  bool answered() const;  // every copy's receiver answered (RTP: always)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct StreamCounts {
  std::int64_t frames = 0;          // frame messages turned into Spikes
  std::int64_t lost = 0;            // sequence numbers that never came (gaps)
  std::int64_t late = 0;            // frames counted lost that came after all (dropped)
  std::int64_t repeated = 0;        // frames that came again (an SRT sender's resend)
  std::int64_t malformed = 0;       // messages refused by the parser
  std::int64_t restarts = 0;        // new stream ids (the sender started again)
  std::uint64_t skipped_bytes = 0;  // bytes that were no message at all
};

class SpikeStreamSource {
 public:
  // Listens on (or calls) `uri`. With `wait_for_header`, waits at most
  // `idle_timeout_s` for the stream's header (a `stop`, which may be null,
  // ends the wait); without, next() takes it when it comes (started()). The
  // header's encoder must be `encoder_spec`'s (its cells come from the model
  // file, not the stream). Throws std::runtime_error with one line.
  SpikeStreamSource(const std::string& uri, const std::string& encoder_spec, double idle_timeout_s,
                    const std::atomic<bool>* stop, bool wait_for_header = true);
  // The same with the encoder already loaded (`serve`: once for every stream).
  SpikeStreamSource(const std::string& uri, const EncoderInfo& encoder,
                    const std::string& encoder_spec, double idle_timeout_s,
                    const std::atomic<bool>* stop, bool wait_for_header = true);
  ~SpikeStreamSource();
  // A frame; a null pointer when none came within `timeout_s` (0: only what
  // has arrived); nullopt at the end of the stream or after `idle_timeout_s`
  // without a message. An SRT listener whose sender closed the connection
  // without an end of stream listens again and waits for it that long.
  // Throws (one line) for a header of another encoder.
  std::optional<SpikesPtr> next(double timeout_s = 0.1);
  // Closes the port (or the call): a sender that comes later is not answered,
  // so it says so, instead of sending into a socket nobody reads. Counts stay.
  void close();
  bool started() const;  // the header came: encoder(), grid() and fps() are the stream's
  const EncoderInfo& encoder() const { return encoder_; }
  TileGrid grid() const { return grid_; }
  double fps() const { return fps_; }
  const StreamCounts& counts() const { return counts_; }
  std::string describe_counts() const;

 private:
  void take_header(const stream::Message& msg);
  void count_malformed(const std::string& why);  // with a warning for the first few
  // A sequence number too far ahead to be a gap (forged or corrupt): counted
  // as malformed, so it neither counts billions lost nor makes later frames late.
  bool refused_gap(const stream::Message& msg);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  EncoderInfo encoder_;
  std::string encoder_spec_;
  TileGrid grid_;
  double fps_ = 30;
  StreamCounts counts_;
};

}  // namespace spikevid
