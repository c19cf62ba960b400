#pragma once
// The line: the one pipeline every command runs, wired in this one place.
//
//   capture → preprocess → encode → [record] → decode → [compose] → sink
//   read (a spike file) ──────────────────────┘
//   encode alone: capture → preprocess → encode → record and/or send (the spike file or
//     the stream is the output)
//   a spike file replayed to a stream: read (paced at the file's frame rate) → send
//
// A command fills a LineConfig (what it parsed) and calls run(); it never adds
// stages itself. `live` paces nothing and drops: every edge keeps the latest
// frame; `transcode`, `encode`, `decode` and the offline bench block (lossless).
// The stage names in the table, the JSON and the overlay are the same
// everywhere: capture or read, preprocess, encode, record, decode, compose, sink.
// Outputs (the video, the spike file) are written safely (io/output_file.h)
// and finalized on every exit path.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/video_source.h"
#include "models/encoder.h"
#include "pipeline/latency_recorder.h"
#include "pipeline/overflow.h"
#include "pipeline/pipeline_config.h"
#include "stages/capture.h"
#include "stages/decode_stage.h"
#include "stages/encode_stage.h"
#include "stages/preprocess.h"
#include "stages/settings.h"
#include "stages/tiles.h"

namespace spikevid {

class ComposeStage;
class FrameSink;
class Pipeline;
class SpikeFileSource;
class SpikeRecorder;
class SpikeSender;
class SpikeStreamSource;

enum class SourceKind {
  video,         // LineConfig::input: a file, webcam, /dev/videoN, test, gst:..., images
  synthetic,     // the synthetic scene at the grid's size (bench, synthetic)
  spike_file,    // LineConfig::input: a spike file, decoded
  spike_stream,  // LineConfig::input: srt:// or rtp:// (stages/spike_streams.h), decoded
};
enum class View { side_by_side, reconstruction, none };  // none: no compose stage
enum class SinkKind { null, file, window };
// offline: every edge blocks (lossless; `capacity` items); live: every edge
// keeps the latest item (capacity 1), so latency stays bounded.
enum class Pacing { offline, live };

// Batch `auto` offline: 8 frames a model call. Measured (bench/RESULTS.md,
// "Threads by cost"): SID 1.5x (float32) and 1.4-1.5x (bfloat16) the frames/s
// of batch 1 on this CPU; larger batches only add latency and memory.
constexpr int kAutoBatch = 8;

struct LineConfig {
  SourceKind source = SourceKind::video;
  std::string input;
  SourceOptions video;               // SourceKind::video
  SyntheticCaptureConfig synthetic;  // SourceKind::synthetic (its grid is `tiles`)
  std::int64_t max_frames = 0;       // 0: to the end of the source
  TileGrid tiles;                    // spike files bring their own
  EncodeConfig encode;               // device, precision and threads come from below
  std::string record_spikes;         // a spike file to write ("": none)
  std::string send_spikes;           // a stream URI to send them to ("": none)
  int send_copies = 1;               // > 1: also to PORT + 1, ... (a stream each; load for `serve`)
  double idle_timeout_s = 10;        // SourceKind::spike_stream: the wait for a message
  bool paced = false;    // SourceKind::spike_file: frames leave at the file's rate (a replay)
  bool decode = true;    // false: the line ends in the recorder (`encode`)
  DecodeConfig decoder;  // device, precision, graphs, batch: from below
  View view = View::side_by_side;
  bool overlay = true;
  SinkKind sink = SinkKind::null;
  std::string output;  // SinkKind::file
  Device device = Device::cpu;
  std::optional<Precision> precision = Precision::float32;  // nullopt: auto (PrecisionPlan)
  bool cuda_graphs = false;
  // The most frames a model stage takes at once; 0: auto (kAutoBatch offline,
  // 1 live, where an edge holds one frame).
  int batch = 1;
  // LibTorch threads per model stage (per decode worker); 0: auto (ThreadPlan).
  int threads = 0;
  // Threads that run the decode stage on alternate batches, order restored
  // (pipeline/batch_runner.h), CPU only; 0: 1, or auto's choice with threads 0.
  int decode_workers = 0;
  Pacing pacing = Pacing::offline;
  std::size_t capacity = 4;                      // offline edges
  std::size_t warmup = 10;                       // frames left out of the statistics
  const std::atomic<bool>* stop_flag = nullptr;  // a signal handler's flag
  // More outputs of the run (report files): checked with the line's own
  // against the inputs and each other before anything is written.
  std::vector<std::string> other_outputs;
  // Called at the sink for every frame, on its thread (progress bars, soaks).
  std::function<void(const FrameMeta&)> on_output;
};

// How the line's model stages use the cores. With --threads auto (the
// default) on a CPU, the line times one batch of each model stage on one
// thread and splits the cores by those costs: the decoder, which costs the
// most (5x the encoder for the paper's SID), runs as several one-thread
// workers on alternate batches; the encoder gets the remaining share, at least
// one thread. One-thread workers win over one worker with several threads
// because a 64x64 model leaves a second intra-op thread mostly waiting
// (bench/RESULTS.md, "Threads by cost"). The plan keeps the threads' expected busy
// time within the cores: each stage's threads round its share of them.
struct ThreadPlan {
  bool automatic = false;
  int cores = 1;
  int encode_threads = 0;  // 0: no encode stage
  int decode_threads = 0;  // per worker; 0: no decode stage
  int decode_workers = 0;
  double encode_ms = 0, decode_ms = 0;  // one batch on one thread (automatic, CPU)
  // One line for the user: what was chosen and why.
  std::string describe() const;
};

// Which arithmetic each model runs in. An explicit precision applies to both
// models (float16: the decoder; the encoder stays float32). With `auto` (the
// commands' default), a model computes in bfloat16 on a CPU with AMX or
// AVX512-BF16, or in float16 on a CUDA device, only where its file records
// that this stays within 0.005 SSIM of float32 (models/precision_check.h,
// `spikevid check-precision --record`); otherwise in float32.
struct PrecisionPlan {
  bool automatic = false;
  Precision encoder = Precision::float32, decoder = Precision::float32;
  std::string encoder_why, decoder_why;  // automatic: the file's record, or why not
  // One line for the user: what was chosen and why.
  std::string describe() const;
};

struct LineResult {
  std::int64_t frames_in = 0, frames_out = 0;
  double mean_ssim = 0, mean_psnr = 0;  // NaN without inputs to score against
  bool interrupted = false;             // stopped before the end of the source
  double wall_s = 0;
};

class Line {
 public:
  // Opens the source, loads the models, opens the outputs: everything that
  // can fail on a user's mistake fails here, with one line (std::runtime_error;
  // std::invalid_argument for settings that do not go together).
  explicit Line(LineConfig config);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  // Runs to the end of the source or a stop; finalizes every output on every
  // exit path; rethrows the first stage error after that. Once.
  LineResult run();
  // From any thread, once run() started: ends the run as Ctrl-C does.
  void stop();

  // After run(): the latency summary (edges: the source's own buffer first).
  const LatencyRecorder& recorder() const;
  std::vector<std::string> stage_names() const;

  const ThreadPlan& thread_plan() const { return plan_; }
  int batch() const { return config_.batch; }  // as chosen (auto resolved)
  bool batch_auto() const { return batch_auto_; }
  // Offline, the model stages fill every batch (all but the last hold
  // batch() frames), so a run's results do not depend on timing; live, they
  // take what is waiting (pipeline/pipeline_config.h, BatchFill).
  BatchFill batch_fill() const {
    return config_.pacing == Pacing::offline ? BatchFill::full : BatchFill::waiting;
  }
  const PrecisionPlan& precision_plan() const { return precision_; }
  const EncoderInfo& encoder_info() const { return encoder_info_; }
  const TileGrid& grid() const { return grid_; }
  const std::string& source_description() const { return source_description_; }
  double fps() const { return fps_; }
  std::int64_t expected_frames() const { return expected_frames_; }
  // A stream source's counts (received, lost, late, malformed); "" otherwise.
  std::string stream_counts() const;
  // A network sender's receiver answered (RTP: always); true without one.
  bool sender_answered() const;
  // The stages, for the benchmark's own figures (FLOP/s, its sequential loop).
  PreprocessStage* preprocess() { return preprocess_.get(); }
  EncodeStage* encode_stage() { return encode_.get(); }
  DecodeStage* decode_stage() { return decode_.get(); }
  ComposeStage* compose_stage() { return compose_.get(); }  // null without a view
  const CaptureSource* capture() const { return capture_.get(); }

 private:
  void build();
  void plan_precision();
  void plan_threads();
  template <class Port>
  void add_tail(Port spikes);
  template <class Port>
  void add_spikes_sink(Port spikes);
  template <class Port>  // the spike file kept and the stream sent, on the way to decode
  Port add_spike_outputs(Port spikes);
  // Finalizes the spike file, the network sender and the video; with
  // `wait_for_receiver` (and no stop asked), a sender waits for a receiver
  // that has not answered yet.
  void finish_outputs(bool wait_for_receiver);

  LineConfig config_;
  std::unique_ptr<CaptureSource> capture_;
  std::unique_ptr<SpikeFileSource> spike_file_;
  std::unique_ptr<PreprocessStage> preprocess_;
  std::unique_ptr<EncodeStage> encode_;
  std::unique_ptr<SpikeRecorder> recorder_stage_;
  std::unique_ptr<SpikeSender> sender_stage_;
  std::unique_ptr<SpikeStreamSource> spike_stream_;
  std::unique_ptr<DecodeStage> decode_;
  std::unique_ptr<ComposeStage> compose_;
  std::unique_ptr<FrameSink> sink_;
  std::unique_ptr<Pipeline> pipeline_;
  ThreadPlan plan_;
  PrecisionPlan precision_;
  EncoderInfo encoder_info_;
  TileGrid grid_;
  std::string source_description_;
  double fps_ = 30;
  std::int64_t expected_frames_ = -1;
  std::int64_t emitted_ = 0;
  std::chrono::steady_clock::time_point paced_from_;  // LineConfig::paced: the first frame
  std::atomic<std::int64_t> delivered_{0};
  bool ran_ = false;
  bool batch_auto_ = false;
  std::mutex stop_mutex_;  // stop() from another thread while run() builds
  bool stop_pending_ = false;
};

}  // namespace spikevid
