#include "stages/decode_stage.h"

#include <torch/torch.h>

#include "models/decoder.h"
#include "models/encoder.h"
#include "stages/gpu_lane.h"
#include "stages/tiles.h"

namespace spikevid {

DecodeStage::DecodeStage(DecodeConfig config, const EncoderInfo& encoder)
    : config_(std::move(config)),
      device_(config_.device),
      decoder_(load_decoder(config_.decoder, encoder, device_)),
      lane_(make_gpu_lane(config_.device)) {
  const bool cuda = device_.is_cuda();
  const auto dtype = parse_precision(config_.precision);
  if (dtype == torch::kHalf && !cuda)
    throw std::invalid_argument("decode: half precision needs a CUDA device (--device cuda)");
  if (config_.cuda_graphs && !lane_)
    throw std::invalid_argument(
        cuda ? "decode: CUDA graphs need the CUDA path, which this build lacks"
             : "decode: CUDA graphs need a CUDA device (--device cuda)");
  if (dtype != torch::kFloat32) decoder_->set_precision(dtype);
}

DecodeStage::~DecodeStage() = default;

ReconstructionPtr DecodeStage::process(SpikesPtr spikes) {
  std::vector<SpikesPtr> one;
  one.push_back(std::move(spikes));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<ReconstructionPtr> DecodeStage::process_batch(std::vector<SpikesPtr> spikes) {
  const int tiles_per_frame = config_.tiles.rows * config_.tiles.cols;
  std::vector<torch::Tensor> counts;
  std::vector<GpuEventPtr> ready;
  counts.reserve(spikes.size());
  for (const auto& s : spikes) {
    const int64_t n = s->counts.size(0);
    if (n != tiles_per_frame)
      throw std::runtime_error("decode: a frame of " + std::to_string(n) + " tiles, expected " +
                               std::to_string(tiles_per_frame));
    counts.push_back(s->counts);
    ready.push_back(s->ready);
  }
  std::vector<torch::Tensor> outputs(spikes.size());
  auto compute = [&] {
    auto batch = counts.size() == 1 ? counts.front() : torch::cat(counts);
    batch = batch.to(batch.options().device(device_), /*non_blocking=*/true);  // from a spike file
    auto decode = [&](const torch::Tensor& c) { return decoder_->decode(c); };
    auto images =
        config_.cuda_graphs
            ? lane_->graphed(batch, static_cast<int64_t>(config_.max_batch) * tiles_per_frame,
                             decode)
            : decode(batch);
    for (std::size_t i = 0; i < spikes.size(); ++i) {
      auto tiles = images.narrow(0, static_cast<int64_t>(i) * tiles_per_frame, tiles_per_frame);
      auto out = tiles_per_frame == 1 ? tiles : blend_tiles(tiles, config_.tiles);
      if (lane_) {
        // Down by DMA into page-locked memory, on this stage's stream.
        auto host =
            torch::empty(out.sizes(), out.options().device(torch::kCPU).pinned_memory(true));
        host.copy_(out, /*non_blocking=*/true);
        outputs[i] = host;
      } else {
        outputs[i] = out.device().is_cpu() ? out : out.cpu();
      }
    }
  };
  if (lane_)
    host_wait(lane_->run(ready, compute));  // this batch's event only, not the device
  else
    compute();
  std::vector<ReconstructionPtr> out;
  out.reserve(spikes.size());
  for (std::size_t i = 0; i < spikes.size(); ++i)
    out.push_back(std::make_unique<Reconstruction>(Reconstruction{
        spikes[i]->meta, spikes[i]->image, spikes[i]->counts, outputs[i], spikes[i]->pts_ns}));
  return out;
}

std::vector<double> DecodeStage::gpu_ms() {
  return lane_ ? lane_->gpu_ms() : std::vector<double>{};
}

}  // namespace spikevid
