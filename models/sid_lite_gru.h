#pragma once
// SID-lite-GRU: SID-lite with a memory, for video. Each frame's spikes go
// through SID-lite's dense stage (models/sid_lite.h) to a dense image d_t; a
// convolutional GRU at 32×32 (d_t folded 2×2 into 4 channels, `hidden`
// channels of state h) carries what earlier frames showed, with gates it
// learned, and adds its correction before SID-lite's residual network:
//   x = pixel_unshuffle(d_t, 2)                         [B,4,32,32]
//   z, r = σ(conv 3×3 (x ‖ h))        n = tanh(conv 3×3 (x ‖ r·h))
//   h' = (1 − z)·h + z·n   (h' = n from a fresh state)
//   out = refine(d_t + pixel_shuffle(conv 3×3/4 (h' ‖ x), 2))
// The correction's conv starts at zero, so a fresh model from a SID-lite file
// decodes exactly as that SID-lite. From a fresh state (undefined) the first
// frame is taken whole: h' = n, with h = 0 inside n.
// The state of B parallel sequences (one per tile and stream) is [B,hidden,32,32].
#include <torch/nn/modules/conv.h>

#include "models/sid_lite.h"

namespace spikevid {

constexpr int64_t kSidLiteGruHidden = 24;

struct SidLiteGruImpl : SidLiteImpl {
  SidLiteGruImpl(int64_t n_inputs, int64_t width, bool ridge_path,
                 int64_t hidden = kSidLiteGruHidden, SidLiteRefine refine = {});
  // One frame of B sequences: counts [B,N] → images [B,1,64,64]; `state` is
  // read (undefined: fresh) and replaced by the new one.
  torch::Tensor step(const torch::Tensor& counts, torch::Tensor& state);
  // From the dense image instead of the counts (training computes d_t once).
  // `reset` (bool [B], optional): rows that start afresh here, as from an
  // undefined state (a scene cut), the others going on from theirs.
  torch::Tensor step_dense(const torch::Tensor& d, torch::Tensor& state,
                           const torch::Tensor& reset = {});
  // A single frame from a fresh state (single images: eval --images).
  torch::Tensor forward(const torch::Tensor& counts);
  // The state's shape for B sequences.
  std::vector<int64_t> state_shape(int64_t batch) const { return {batch, hidden, 32, 32}; }

  int64_t hidden;
  torch::nn::Conv2d gru_zr{nullptr}, gru_n{nullptr}, gru_out{nullptr};
};
TORCH_MODULE(SidLiteGru);

// FLOPs (2 × multiply–accumulates) per 64×64 frame.
double sid_lite_gru_flops_per_frame(int64_t n_inputs, int64_t width, bool ridge_path,
                                    int64_t hidden = kSidLiteGruHidden, SidLiteRefine refine = {});

}  // namespace spikevid
