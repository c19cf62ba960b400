#pragma once
// Poisson spike counts from firing rates.
#include <torch/types.h>

namespace spikevid {

// rates [B,N] in Hz → counts [B,bins,N] (float), each bin window_s/bins long.
// Draws from LibTorch's default generator of the rates' device: seed it with
// torch::manual_seed for a deterministic run.
torch::Tensor draw_spikes(const torch::Tensor& rates, double window_s, int bins);

}  // namespace spikevid
