#pragma once
// `spikevid serve`: many spike streams (stages/spike_streams.h) into one
// decoder. Stream k (0, 1, ...) is received on PORT + k of the listen URI,
// each by its own SpikeStreamSource (so each has the receiver's checks,
// counts, restarts and --idle-timeout). The line is the engine's:
//
//   receive (polls every stream) → decode (one call for every frame that is
//   waiting: the batch is the set of streams ready) → write (each stream's
//   own reconstruction video, or nothing)
//
// Every frame carries its stream's index and the time its message was taken
// from the transport; the write stage keeps each stream's latency from there
// to its frame written, and its counts. A stream whose header names another
// encoder, tile grid or bins than the server's is refused with one line and
// the others go on. The server ends when every stream has ended (its end of
// stream, or `idle_timeout_s` without a message: a stream nobody sent to
// ends so, without an output) or on a stop. Outputs are written safely
// (io/output_file.h) and finalized on every exit path.
// Threading: run() on one thread; stop() from any.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stages/decode_stage.h"
#include "stages/spike_streams.h"
#include "stages/tiles.h"

namespace spikevid {

class Pipeline;

struct ServeConfig {
  std::string listen;  // srt://HOST:PORT or rtp://HOST:PORT (stream k: PORT + k)
  int streams = 1;
  // Each stream's video: a pattern with one printf integer conversion (e.g.
  // out/stream-%02d.mp4), given the stream's index; "": no outputs.
  std::string output_pattern;
  std::string encoder = "models/weights/encoder-cnn.svm";
  DecodeConfig decoder;  // tiles: the streams' grid
  int max_batch = 64;    // the most frames a decoder call takes
  double idle_timeout_s = 10;
  std::size_t warmup = 10;
  const std::atomic<bool>* stop_flag = nullptr;
};

struct ServedStream {
  int index = 0;
  std::string uri, output;  // output "": none (or nothing came)
  bool started = false;     // a header came
  std::string refused;      // why the stream was refused ("" if it was not)
  StreamCounts counts;
  std::int64_t written = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // message taken → frame written
};

// Expands `pattern` for stream `index`; throws std::invalid_argument unless it
// has exactly one integer conversion (%d, %02d, ...), no other %, but %%.
std::string stream_output_name(const std::string& pattern, int index);

class SpikeServer {
 public:
  // Binds every port, loads the decoder, checks the outputs' names: what can
  // fail on a user's mistake fails here, with one line (std::runtime_error;
  // std::invalid_argument for settings).
  explicit SpikeServer(ServeConfig config);
  ~SpikeServer();
  // Until every stream has ended or a stop; finalizes every output; rethrows
  // the first stage error after that. Once.
  std::vector<ServedStream> run();
  void stop();
  const Pipeline& pipeline() const { return *pipeline_; }
  DecodeStage& decode_stage() { return *decode_; }  // before run(): set_precision
  // After run(): decoder calls, and the frames they took (the batches' sizes).
  std::int64_t decoder_calls() const { return calls_; }
  std::int64_t frames_decoded() const { return decoded_; }
  int largest_batch() const { return largest_batch_; }

 private:
  struct Stream;
  ServeConfig config_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::unique_ptr<DecodeStage> decode_;
  EncoderInfo encoder_;
  std::unique_ptr<Pipeline> pipeline_;
  std::atomic<bool> stop_{false};
  std::int64_t calls_ = 0, decoded_ = 0;  // the decode stage's thread
  int largest_batch_ = 0;
};

}  // namespace spikevid
