// Networks prepared for inference (models/inference.h): BatchNorm folded, no
// dropout, channels-last convolutions; the same images as in eval mode.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/inference.h"
#include "models/linear_decoder.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::perturb;

namespace {

// Counts of every kind, in its BatchNorm and Dropout modules, under `m`.
struct Census {
  int batchnorm = 0, dropout = 0, conv = 0;
  int conv_channels_last = 0;  // weights in channels-last memory format
  int conv_contiguous = 0;     // weights in the default format (both, where C or H×W is 1)
};
Census census(torch::nn::Module& m) {
  Census c;
  for (auto& sub : m.modules(/*include_self=*/false)) {
    if (sub->as<torch::nn::BatchNorm1dImpl>() || sub->as<torch::nn::BatchNorm2dImpl>())
      ++c.batchnorm;
    if (sub->as<torch::nn::DropoutImpl>()) ++c.dropout;
    if (auto* conv = sub->as<torch::nn::Conv2dImpl>()) {
      ++c.conv;
      if (conv->weight.is_contiguous(torch::MemoryFormat::ChannelsLast)) ++c.conv_channels_last;
      if (conv->weight.is_contiguous()) ++c.conv_contiguous;
    }
  }
  return c;
}

template <class Net>
torch::Tensor images(Net& net, const torch::Tensor& counts, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  return net->forward(counts.to(dtype)).to(torch::kFloat32).contiguous();
}

// `make()` twice with the same seed: one net in eval mode as trained, one
// prepared for inference; their images on the same counts.
template <class Make>
void check_same_images(Make make, int64_t n_inputs, bool channels_last) {
  torch::manual_seed(5);
  auto trained = make();
  torch::manual_seed(5);
  auto prepared = make();
  trained->eval();
  prepared->eval();
  const auto before = census(*prepared);
  prepared->prepare_for_inference(channels_last);
  const auto after = census(*prepared);
  CHECK(before.batchnorm > 0);
  CHECK(before.dropout > 0);
  CHECK(after.batchnorm == 0);
  CHECK(after.dropout == 0);
  CHECK(after.conv == before.conv);
  CHECK(before.conv_contiguous == before.conv);
  if (channels_last) {
    CHECK(after.conv_channels_last == after.conv);
    CHECK(after.conv_contiguous < after.conv);
  } else {
    CHECK(after.conv_contiguous == after.conv);
  }

  torch::manual_seed(6);
  const auto counts = torch::poisson(torch::full({5, n_inputs}, 2.0));
  const torch::Tensor want = images(trained, counts, torch::kFloat32);
  const torch::Tensor got = images(prepared, counts, torch::kFloat32);
  CHECK(got.sizes() == want.sizes());
  CHECK(got.is_contiguous());
  const double diff = (got - want).abs().max().item<double>();
  INFO("largest difference in float32 " << diff);
  CHECK(diff < 2e-5 * want.abs().max().item<double>() + 1e-5);  // float rounding

  // bfloat16 (on a CPU without a fast unit too: slower, the same arithmetic)
  trained->to(torch::kBFloat16);
  prepared->to(torch::kBFloat16);
  CHECK(census(*prepared).conv_channels_last == after.conv_channels_last);  // kept by .to
  const torch::Tensor want16 = images(trained, counts, torch::kBFloat16);
  const torch::Tensor got16 = images(prepared, counts, torch::kBFloat16);
  // Folding must not make bfloat16 worse: as close to float32 as the network
  // as trained is in bfloat16 (random weights amplify rounding: a few %).
  const double trained16 = (want16 - want).abs().mean().item<double>();
  const double prepared16 = (got16 - want).abs().mean().item<double>();
  INFO("bfloat16's mean difference from float32: as trained " << trained16 << ", prepared "
                                                              << prepared16);
  CHECK(trained16 > 0);
  CHECK(prepared16 < 1.25 * trained16);
}

}  // namespace

TEST_CASE("inference: SID folded and channels-last gives eval mode's images", "[inference]") {
  const auto make = [] {
    Sid net(200);
    net->fit_input_scaling(torch::poisson(torch::full({64, 200}, 2.0)));
    perturb(*net);
    return net;
  };
  check_same_images(make, 200, true);
  check_same_images(make, 200, false);
}

TEST_CASE("inference: SID-lite folded and channels-last gives eval mode's images", "[inference]") {
  const auto make = [] {
    SidLite net(200, 48, /*ridge_path=*/true);
    LinearDecoder ridge(200, 64);
    spikevid::testing::randomize(*ridge);
    net->set_ridge(*ridge);
    net->fit_input_scaling(torch::poisson(torch::full({64, 200}, 2.0)));
    perturb(*net);
    return net;
  };
  check_same_images(make, 200, true);
  check_same_images(make, 200, false);
}

TEST_CASE("inference: a lone BatchNorm stays, a layer without one is shared", "[inference]") {
  torch::nn::Sequential seq(torch::nn::BatchNorm1d(4), torch::nn::Linear(4, 3),
                            torch::nn::Dropout(0.5), torch::nn::ReLU());
  seq->eval();
  auto folded = fold_for_inference(seq);
  REQUIRE(folded->size() == 3);
  CHECK(folded->ptr(0)->as<torch::nn::BatchNorm1dImpl>() != nullptr);
  CHECK(folded->ptr(1).get() == seq->ptr(1).get());
  const auto x = torch::randn({2, 4});
  torch::NoGradGuard no_grad;
  CHECK(torch::allclose(folded->forward(x), seq->forward(x)));
}
