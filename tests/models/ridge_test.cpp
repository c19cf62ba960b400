#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/linear_decoder.h"

using namespace spikevid;

TEST_CASE("ridge: recovers an exact linear map with a vanishing penalty", "[ridge]") {
  torch::manual_seed(2);
  const int64_t n = 12, s = 4;
  auto w = torch::randn({n, s * s});
  auto b = torch::randn({s * s});
  auto make = [&](int64_t m) {
    auto x = torch::rand({m, n}) * 3;
    auto y = (x.mm(w) + b).view({m, 1, s, s});
    return std::make_pair(x, y);
  };
  RidgeAccumulator acc(n, s * s);
  for (int k = 0; k < 4; ++k) {
    auto [x, y] = make(50);
    acc.add(x, y);
  }
  CHECK(acc.samples() == 200);
  auto [xv, yv] = make(40);
  LinearDecoder dec(n, s);
  const auto mses = acc.solve(*dec, {1e-9, 1e-1, 10}, xv, yv);
  REQUIRE(mses.size() == 3);
  CHECK(mses[0] < 1e-10);
  CHECK(mses[0] < mses[1]);
  CHECK(mses[1] < mses[2]);
  CHECK(dec->lambda.item<double>() < 1e-6);
  CHECK(torch::allclose(dec->weight, w, 1e-4, 1e-4));
  CHECK(torch::allclose(dec->forward(xv), yv, 1e-4, 1e-4));
}

TEST_CASE("ridge: picks the penalty that predicts validation data best", "[ridge]") {
  torch::manual_seed(4);
  const int64_t n = 200, m = 240;  // barely more samples than inputs, noisy: needs shrinkage
  auto w = torch::randn({n, 4}) * 0.1;
  auto x = torch::randn({m, n});
  auto y = (x.mm(w) + torch::randn({m, 4})).view({m, 1, 2, 2});
  RidgeAccumulator acc(n, 4);
  acc.add(x, y);
  auto xv = torch::randn({500, n});
  auto yv = (xv.mm(w) + torch::randn({500, 4})).view({500, 1, 2, 2});
  LinearDecoder dec(n, 2);
  const auto mses = acc.solve(*dec, {1e-6, 1, 100}, xv, yv);
  CHECK(mses[1] < mses[0]);
  CHECK(dec->lambda.item<double>() > 0);
}
