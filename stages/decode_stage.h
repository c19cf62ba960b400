#pragma once
// Inputs: SpikesPtr (counts [T,bins,N], on any device). Outputs:
// ReconstructionPtr (tiles blended, the output on the CPU).
// Threading: on the CPU, process() may run on several threads at once (the
// line's decode workers: the decoder is only read); on CUDA, on one thread at
// a time. Not always the same threads; no thread_local. Blocking: never, except on the device it
// computes on. On the CUDA path the stage's own stream waits for the Spikes' events on the GPU, the
// output comes down by an asynchronous copy into page-locked memory, and the host waits for this
// stage's event alone. The decoder must have been trained with the encoder whose info it is given.
// A temporal decoder (sid-lite-gru) keeps one state per stream (each a row per tile): its frames
// must come in order, one call at a time (the line gives it one decode worker). A frame that
// follows its stream's last one after a gap of at most kMaxStateGap frames (keep_latest dropped
// some, or the network lost them) goes on from the state as it was: the decoder was trained on
// saccade-like jumps and cuts, and its gates take a changed view as such, while the scene it held
// is usually still most of what it sees. After a longer gap (more than half a second at 30
// frames/s nothing of the old state is worth keeping), or when the numbers go back (a new
// stream), the state starts afresh. A scene cut is the decoder's own to handle, tile by tile: with
// a cut threshold in its output filter (models/decoder.h), a tile whose new view differs from what
// it held starts afresh too (a reset, not a decay: the old scene's state only holds the new one
// back, two worse frames after each cut without it).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "models/modules.h"
#include "stages/encode_stage.h"
#include "stages/items.h"
#include "stages/settings.h"
#include "stages/tiles.h"

namespace spikevid {

class Decoder;
class GpuLane;
struct EncoderInfo;

// The frame-by-frame decoder of the real-time line: the default of serve,
// bench and the line's configuration (SID-lite, 93 MFLOP a frame).
constexpr const char* kDefaultDecoder = "models/weights/sid-lite-natural.svm";
// The best frame-by-frame decoder on held-out views (README, "Results"): the
// default of eval (single images). SID-lite with a larger residual network,
// 3.3 times the FLOPs: at 3×4 tiles it holds 30 frames/s here too, but
// serve's stream counts and the bench figures were measured with SID-lite.
constexpr const char* kDefaultImageDecoder = "models/weights/sid-lite-deep-natural.svm";
// The default of the video commands (transcode, live, decode; the demo): the
// temporal decoder with its output filter, better on held-out clips and on
// still scenes (README, "Video with a memory").
constexpr const char* kDefaultVideoDecoder = "models/weights/sid-lite-gru-natural.svm";

struct DecodeConfig {
  std::string decoder = kDefaultDecoder;
  Device device = Device::cpu;
  TileGrid tiles;  // the frame's tiles, blended back (1×1: none)
  // float32; float16 (CUDA only); bfloat16 (on a CPU with AMX, several times
  // faster: oneDNN runs it on the tiles).
  Precision precision = Precision::float32;
  bool cuda_graphs = false;  // the decoder's forward pass as a CUDA graph (CUDA path only)
  int max_batch = 1;         // the most frames per process_batch (the graph's capacity)
  int threads = 0;           // LibTorch threads of the thread that runs the stage (0: as set)
  Modules modules = Modules::optimized;  // the network as loaded (models/modules.h)
};

constexpr std::uint64_t kMaxStateGap = 15;

class DecodeStage {
 public:
  DecodeStage(DecodeConfig config, const EncoderInfo& encoder);  // throws on a mismatch
  ~DecodeStage();
  ReconstructionPtr process(SpikesPtr spikes);
  std::vector<ReconstructionPtr> process_batch(std::vector<SpikesPtr> spikes);
  const Decoder& decoder() const { return *decoder_; }
  Decoder& decoder() { return *decoder_; }  // for the bench's plain loop, outside a run
  // GPU milliseconds of every batch so far (CUDA path; empty otherwise).
  std::vector<double> gpu_ms();
  // So far (seconds summed over workers); read after the run.
  ModelTime model_time();
  // Before a run: the model's arithmetic (as DecodeConfig/EncodeConfig::precision).
  void set_precision(Precision precision);
  // Before a run: LibTorch threads of each thread that will run the stage.
  void set_threads(int threads);
  // Before a run, after calls that only measured: the time starts from zero, and a temporal
  // decoder's states afresh.
  void restart();

 private:
  void set_threads();
  // The temporal decoder's batch: frames decoded in order, each from its stream's state.
  std::vector<torch::Tensor> decode_temporal(const std::vector<SpikesPtr>& spikes,
                                             const std::vector<torch::Tensor>& counts);

  struct StreamState {
    torch::Tensor state;  // [tiles,...] on the decoder's device
    std::uint64_t last_seq = 0;
  };

  DecodeConfig config_;
  std::mutex mutex_;  // guards time_ and threads_set_for_ (several workers)
  ModelTime time_;
  std::vector<std::thread::id> threads_set_for_;
  torch::Device device_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<GpuLane> lane_;
  std::map<int, StreamState> states_;  // temporal decoders: by Spikes::stream
  std::uint64_t state_resets_ = 0, state_gaps_ = 0;

 public:
  // Temporal decoders: states started afresh after a long gap or a new stream
  // (not counting each stream's first frame), and gaps gone on from.
  std::uint64_t state_resets() const { return state_resets_; }
  std::uint64_t state_gaps() const { return state_gaps_; }
};

}  // namespace spikevid
