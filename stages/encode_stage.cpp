#include "stages/encode_stage.h"

#include <torch/torch.h>

#include "models/encoder.h"

namespace spikevid {

EncodeStage::EncodeStage(EncodeConfig config)
    : config_(std::move(config)),
      encoder_(load_encoder(config_.encoder, torch::Device(config_.device))) {
  if (config_.bins < 1) throw std::invalid_argument("encode: --bins must be at least 1");
  encoder_->mutable_info().bins = config_.bins;
  torch::manual_seed(config_.seed);
}

EncodeStage::~EncodeStage() = default;

SpikesPtr EncodeStage::process(FramePtr frame) {
  std::vector<FramePtr> one;
  one.push_back(std::move(frame));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<SpikesPtr> EncodeStage::process_batch(std::vector<FramePtr> frames) {
  std::vector<torch::Tensor> images;
  images.reserve(frames.size());
  for (const auto& f : frames) images.push_back(f->image);
  auto counts = encoder_->spikes(torch::cat(images));
  std::vector<SpikesPtr> out;
  out.reserve(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i)
    out.push_back(std::make_unique<Spikes>(
        Spikes{frames[i]->meta, frames[i]->image, counts.narrow(0, static_cast<int64_t>(i), 1)}));
  return out;
}

}  // namespace spikevid
