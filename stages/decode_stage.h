#pragma once
// Inputs: SpikesPtr (counts [T,bins,N], on any device). Outputs:
// ReconstructionPtr (tiles blended, the output on the CPU).
// Threading: on the CPU, process() may run on several threads at once (the
// line's decode workers: the decoder is only read); on CUDA, on one thread at
// a time. Not always the same threads; no thread_local. Blocking: never, except on the device it
// computes on. On the CUDA path the stage's own stream waits for the Spikes' events on the GPU, the
// output comes down by an asynchronous copy into page-locked memory, and the host waits for this
// stage's event alone. The decoder must have been trained with the encoder whose info it is given.
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

// The decoder that the video commands, eval and the demo use by default: the
// best frame-by-frame decoder on held-out views (README, "Results").
constexpr const char* kDefaultDecoder = "models/weights/sid-lite-natural.svm";

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
  // Before a run, after calls that only measured: the time starts from zero.
  void restart();

 private:
  void set_threads();

  DecodeConfig config_;
  std::mutex mutex_;  // guards time_ and threads_set_for_ (several workers)
  ModelTime time_;
  std::vector<std::thread::id> threads_set_for_;
  torch::Device device_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<GpuLane> lane_;
};

}  // namespace spikevid
