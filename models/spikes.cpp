#include "models/spikes.h"

#include <torch/torch.h>

namespace spikevid {

torch::Tensor draw_spikes(const torch::Tensor& rates, double window_s, int bins) {
  TORCH_CHECK(rates.dim() == 2, "draw_spikes: expected rates [B,N], got ", rates.sizes());
  TORCH_CHECK(bins >= 1 && window_s > 0, "draw_spikes: need bins >= 1 and a positive window");
  auto mean = (rates.clamp_min(0) * (window_s / bins)).unsqueeze(1).expand({-1, bins, -1});
  return torch::poisson(mean.contiguous());
}

}  // namespace spikevid
