#pragma once
// The linear decoder retina decoding is usually compared against: ridge
// regression from spike counts to pixels, fitted in closed form.
// Inputs: [B,N] counts. Outputs: [B,1,S,S].
#include <vector>

#include <torch/nn/module.h>

namespace spikevid {

struct LinearDecoderImpl : torch::nn::Module {
  LinearDecoderImpl(int64_t n_inputs, int64_t image_size);
  torch::Tensor forward(const torch::Tensor& counts);

  int64_t n_inputs, image_size;
  torch::Tensor input_mean;   // [N]
  torch::Tensor weight;       // [N, S²]
  torch::Tensor output_mean;  // [S²]
  torch::Tensor lambda;       // [] the penalty chosen on validation data
};
TORCH_MODULE(LinearDecoder);

// Running sums for the normal equations, in float64 (CPU): add batches of
// (counts [B,N], images [B,1,S,S]), then solve.
class RidgeAccumulator {
 public:
  RidgeAccumulator(int64_t n_inputs, int64_t n_outputs);
  void add(const torch::Tensor& counts, const torch::Tensor& images);
  int64_t samples() const { return n_; }

  // Fits for each penalty in `lambdas` (relative to the mean eigenvalue of the
  // input covariance), keeps the one with the lowest MSE on the validation
  // pairs, and stores it in `decoder`. Returns the validation MSE per penalty.
  std::vector<double> solve(LinearDecoderImpl& decoder, const std::vector<double>& lambdas,
                            const torch::Tensor& val_counts, const torch::Tensor& val_images) const;

 private:
  int64_t n_ = 0;
  torch::Tensor sxx_, sxy_, sx_, sy_;
};

}  // namespace spikevid
