#pragma once
// Inputs: FramePtr (tiles [T,1,S,S], gray, on the CPU). Outputs: SpikesPtr
// (counts [T,bins,N] on the stage's device).
// Threading: process() runs on one thread at a time, not always the same one;
// no thread_local. Blocking: never, except on the device it computes on; on
// the CUDA path not even that: the tiles are uploaded asynchronously on the
// stage's own stream and the Spikes carry the event that says they are done.
// A batch is encoded as one tensor, faster than one by one. The Poisson draws
// come from torch's global generator, seeded with config.seed at the first
// frame: in a pipeline, the encode stage is the only stage that draws.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stages/items.h"
#include "stages/settings.h"

namespace spikevid {

class Encoder;
class GpuLane;

struct EncodeConfig {
  std::string encoder = "models/weights/encoder-cnn.svm";  // or "retina", a .pt
  Device device = Device::cpu;
  int bins = 1;
  std::uint64_t seed = 1;  // Poisson draws: the same seed gives the same spikes
  // float32, or bfloat16 (the model's arithmetic; rates and spikes stay
  // float32). float16 is the decoder's alone: the encoder stays float32.
  Precision precision = Precision::float32;
  int threads = 0;  // LibTorch threads of the thread that runs the stage (0: as set)
};

// The time a model stage spent in its model calls, and the frames they computed.
struct ModelTime {
  double seconds = 0;  // wall clock on a CPU; GPU time (CUDA events) on the CUDA path
  std::int64_t frames = 0;
};

class EncodeStage {
 public:
  explicit EncodeStage(EncodeConfig config);  // loads the model; throws on bad config
  ~EncodeStage();
  SpikesPtr process(FramePtr frame);
  std::vector<SpikesPtr> process_batch(std::vector<FramePtr> frames);
  Encoder& encoder() { return *encoder_; }
  // GPU milliseconds of every batch so far (CUDA path; empty otherwise).
  std::vector<double> gpu_ms();
  // So far; read after the run. Thread-safe: no.
  ModelTime model_time();
  // Before a run: the model's arithmetic (as DecodeConfig/EncodeConfig::precision).
  void set_precision(Precision precision);
  // Before a run: LibTorch threads of the thread(s) that will run the stage.
  void set_threads(int threads);
  // Before a run, after calls that only measured: as if nothing had been
  // encoded (the Poisson draws start again from the seed; the time is zero).
  void restart();

 private:
  EncodeConfig config_;
  ModelTime time_;
  std::thread::id threads_set_for_;
  torch::Device device_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<GpuLane> lane_;
  bool seeded_ = false;
};

}  // namespace spikevid
