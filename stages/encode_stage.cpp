#include "stages/encode_stage.h"

#include <chrono>

#include <torch/torch.h>

#include "models/encoder.h"
#include "stages/gpu_lane.h"

namespace spikevid {

EncodeStage::EncodeStage(EncodeConfig config)
    : config_(std::move(config)),
      device_(torch_device(config_.device)),
      encoder_(load_encoder(config_.encoder, device_)),
      lane_(make_gpu_lane(to_string(config_.device))) {
  if (config_.bins < 1) throw std::invalid_argument("encode: --bins must be at least 1");
  encoder_->mutable_info().bins = config_.bins;
  if (config_.precision == Precision::bfloat16) encoder_->set_precision(torch::kBFloat16);
}

EncodeStage::~EncodeStage() = default;

SpikesPtr EncodeStage::process(FramePtr frame) {
  std::vector<FramePtr> one;
  one.push_back(std::move(frame));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<SpikesPtr> EncodeStage::process_batch(std::vector<FramePtr> frames) {
  // OpenMP's thread count is per OS thread: set it on each new one.
  if (config_.threads > 0 && threads_set_for_ != std::this_thread::get_id()) {
    torch::set_num_threads(config_.threads);
    threads_set_for_ = std::this_thread::get_id();
  }
  const auto t0 = std::chrono::steady_clock::now();
  // Seeded at the first frame, not at construction: loading other models in
  // between (their initial weights are random) must not change the spikes.
  if (!seeded_) {
    torch::manual_seed(config_.seed);
    seeded_ = true;
  }
  std::vector<torch::Tensor> inputs;
  inputs.reserve(frames.size());
  for (const auto& f : frames) inputs.push_back(f->tiles.defined() ? f->tiles : f->image);
  // All tiles of all frames in one batch, then each frame takes its own back.
  torch::Tensor counts;
  auto compute = [&] {
    torch::Tensor batch = inputs.front();
    if (inputs.size() > 1) {
      // Gathered into page-locked memory on the CUDA path, so the upload is a DMA.
      auto shape = batch.sizes().vec();
      shape[0] = 0;
      for (const auto& x : inputs) shape[0] += x.size(0);
      batch = torch::empty(shape, batch.options().pinned_memory(lane_ != nullptr));
      torch::cat_out(batch, inputs);
    }
    counts = encoder_->spikes(batch.to(batch.options().device(device_), /*non_blocking=*/true));
  };
  GpuEventPtr ready;
  if (lane_)
    ready = lane_->run({}, compute);
  else
    compute();
  time_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  time_.frames += static_cast<std::int64_t>(frames.size());
  std::vector<SpikesPtr> out;
  out.reserve(frames.size());
  int64_t at = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const int64_t n = inputs[i].size(0);
    out.push_back(std::make_unique<Spikes>(Spikes{
        frames[i]->meta, frames[i]->image, counts.narrow(0, at, n), frames[i]->pts_ns, ready}));
    at += n;
  }
  return out;
}

std::vector<double> EncodeStage::gpu_ms() {
  return lane_ ? lane_->gpu_ms() : std::vector<double>{};
}

ModelTime EncodeStage::model_time() {
  ModelTime t = time_;
  if (lane_) {  // the stage does not wait for its GPU work: the events say how long it took
    t.seconds = 0;
    for (double ms : lane_->gpu_ms()) t.seconds += ms / 1e3;
  }
  return t;
}

void EncodeStage::set_threads(int threads) {
  config_.threads = threads;
  threads_set_for_ = std::thread::id();
}

void EncodeStage::restart() {
  seeded_ = false;
  time_ = ModelTime{};
}

void EncodeStage::set_precision(Precision precision) {
  if (precision == Precision::float16)
    throw std::invalid_argument("float16 is the decoder's alone: the encoder stays float32");
  config_.precision = precision;
  encoder_->set_precision(dtype_of(precision));
}

}  // namespace spikevid
