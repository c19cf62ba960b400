#include "stages/decode_stage.h"

#include <torch/torch.h>

#include "models/decoder.h"
#include "models/encoder.h"
#include "stages/tiles.h"

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
  int64_t at = 0;
  for (std::size_t i = 0; i < spikes.size(); ++i) {
    const int64_t n = counts[i].size(0);
    if (n != config_.tiles.rows * config_.tiles.cols)
      throw std::runtime_error("decode: a frame of " + std::to_string(n) + " tiles, expected " +
                               std::to_string(config_.tiles.rows * config_.tiles.cols));
    auto tiles = images.narrow(0, at, n);
    at += n;
    out.push_back(std::make_unique<Reconstruction>(
        Reconstruction{spikes[i]->meta, spikes[i]->image, spikes[i]->counts,
                       n == 1 ? tiles : blend_tiles(tiles, config_.tiles), spikes[i]->pts_ns}));
  }
  return out;
}

}  // namespace spikevid
