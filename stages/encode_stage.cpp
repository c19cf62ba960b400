#include "stages/encode_stage.h"

#include <torch/torch.h>

#include "models/encoder.h"

namespace spikevid {

EncodeStage::EncodeStage(EncodeConfig config)
    : config_(std::move(config)),
      encoder_(load_encoder(config_.encoder, torch::Device(config_.device))) {
  if (config_.bins < 1) throw std::invalid_argument("encode: --bins must be at least 1");
  encoder_->mutable_info().bins = config_.bins;
}

EncodeStage::~EncodeStage() = default;

SpikesPtr EncodeStage::process(FramePtr frame) {
  std::vector<FramePtr> one;
  one.push_back(std::move(frame));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<SpikesPtr> EncodeStage::process_batch(std::vector<FramePtr> frames) {
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
  auto counts = encoder_->spikes(torch::cat(inputs));
  std::vector<SpikesPtr> out;
  out.reserve(frames.size());
  int64_t at = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const int64_t n = inputs[i].size(0);
    out.push_back(std::make_unique<Spikes>(
        Spikes{frames[i]->meta, frames[i]->image, counts.narrow(0, at, n), frames[i]->pts_ns}));
    at += n;
  }
  return out;
}

}  // namespace spikevid
