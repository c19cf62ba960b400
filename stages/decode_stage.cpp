#include "stages/decode_stage.h"

#include <torch/torch.h>

#include "models/decoder.h"
#include "models/encoder.h"

namespace spikevid {

DecodeStage::DecodeStage(DecodeConfig config, const EncoderInfo& encoder)
    : config_(std::move(config)),
      decoder_(load_decoder(config_.decoder, encoder, torch::Device(config_.device))) {}

DecodeStage::~DecodeStage() = default;

ReconstructionPtr DecodeStage::process(SpikesPtr spikes) {
  std::vector<SpikesPtr> one;
  one.push_back(std::move(spikes));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<ReconstructionPtr> DecodeStage::process_batch(std::vector<SpikesPtr> spikes) {
  std::vector<torch::Tensor> counts;
  counts.reserve(spikes.size());
  for (const auto& s : spikes) counts.push_back(s->counts);
  auto images = decoder_->decode(torch::cat(counts));
  std::vector<ReconstructionPtr> out;
  out.reserve(spikes.size());
  for (std::size_t i = 0; i < spikes.size(); ++i)
    out.push_back(std::make_unique<Reconstruction>(
        Reconstruction{spikes[i]->meta, spikes[i]->image, spikes[i]->counts,
                       images.narrow(0, static_cast<int64_t>(i), 1)}));
  return out;
}

}  // namespace spikevid
