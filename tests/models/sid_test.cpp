#include <torch/torch.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/cnn_encoder.h"
#include "models/linear_decoder.h"
#include "models/retina.h"
#include "models/sid.h"
#include "models/sid_lite.h"

using namespace spikevid;

TEST_CASE("sid: shapes, parameter count and FLOPs of the reference architecture", "[sid]") {
  torch::manual_seed(1);
  Sid sid(2048);
  sid->eval();
  auto y = sid->forward(torch::rand({3, 2048}) * 3);
  CHECK(y.sizes() == torch::IntArrayRef({3, 1, 64, 64}));
  CHECK(sid->dense_image(torch::rand({3, 2048})).sizes() == torch::IntArrayRef({3, 1, 64, 64}));
  // The dense stage ends in a sigmoid.
  auto d = sid->dense_image(torch::rand({3, 2048}) * 5);
  CHECK(d.min().item<float>() >= 0);
  CHECK(d.max().item<float>() <= 1);
  int64_t params = 0;
  for (const auto& p : sid->parameters()) params += p.numel();
  // Linear 2048·512+512, BN 1024, Linear 512·4096+4096, convs and BNs: counted by hand.
  const int64_t dense = 2048 * 512 + 512 + 2 * 512 + 512 * 4096 + 4096;
  const int64_t convs = (49 * 64 + 64) + (25 * 64 * 128 + 128) + (9 * 128 * 256 + 256) +
                        (9 * 256 * 256 + 256) + (9 * 256 * 256 + 256) + (9 * 256 * 128 + 128) +
                        (25 * 128 * 64 + 64) + (49 * 64 + 1);
  const int64_t bns = 2 * (64 + 128 + 256 + 256 + 256 + 128 + 64 + 1);
  CHECK(params == dense + convs + bns);
  CHECK(sid_flops_per_frame(2048) / 1e9 == Approx(0.85).epsilon(0.02));
}

TEST_CASE("sid-lite: shapes, residual on the dense image, and at least 10x fewer FLOPs", "[sid]") {
  torch::manual_seed(1);
  SidLite lite(2048);
  lite->eval();
  auto counts = torch::rand({3, 2048}) * 3;
  auto y = lite->forward(counts);
  CHECK(y.sizes() == torch::IntArrayRef({3, 1, 64, 64}));
  // With the refinement's last conv zeroed, the output is the dense image.
  {
    torch::NoGradGuard no_grad;
    lite->out->weight.zero_();
    lite->out->bias.zero_();
  }
  CHECK(torch::allclose(lite->forward(counts), lite->dense_image(counts)));
  int64_t params = 0;
  for (const auto& p : lite->parameters()) params += p.numel();
  const int64_t dense = 2048 * 512 + 512 + 2 * 512 + 512 * 4096 + 4096;
  const int64_t convs = 9 * 32 + 9 * 32 * 32 + 9 * 32 * 64 + 9 * 64 * 64 + 9 * 32 * 32 +
                        (64 * 32 + 32) + (9 * 32 * 4 + 4) + 2 * (32 + 32 + 64 + 64 + 32);
  CHECK(params == dense + convs);
  CHECK(sid_flops_per_frame(2048) / sid_lite_flops_per_frame(2048) > 10);
}

TEST_CASE("sid-lite: the residual network's size, its FLOPs, and its meta", "[sid]") {
  torch::manual_seed(3);
  // FLOPs of the convolutions counted from the weights the network has: each
  // conv's weights × the pixels of its output (stage 1 and merge at 32×32,
  // stage 2 and the lateral 1×1 at 16×16).
  auto conv_flops = [](SidLite& net) {
    double macs = 0;
    for (const auto& m : net->named_modules()) {
      auto* conv = m.value()->as<torch::nn::Conv2dImpl>();
      if (conv == nullptr) continue;
      const auto& name = m.key();
      const double pixels =
          name.rfind("down2", 0) == 0 || name.rfind("lateral", 0) == 0 ? 16 * 16 : 32 * 32;
      macs += static_cast<double>(conv->weight.numel()) * pixels;
    }
    return 2 * macs;
  };
  const double dense = 2.0 * (2048 * 512 + 512 * 4096);
  for (const SidLiteRefine r : {SidLiteRefine{32, 1}, SidLiteRefine{48, 2}, SidLiteRefine{8, 3}}) {
    SidLite lite(2048, 512, false, r);
    lite->eval();
    CHECK(lite->forward(torch::rand({2, 2048})).sizes() == torch::IntArrayRef({2, 1, 64, 64}));
    CHECK(sid_lite_flops_per_frame(2048, 512, false, r) == Approx(dense + conv_flops(lite)));
    CHECK(lite->down1->size() == static_cast<size_t>(3 * (1 + r.depth)));
    CHECK(lite->out->weight.size(1) == r.channels);
  }
  CHECK(sid_lite_flops_per_frame(2048) == sid_lite_flops_per_frame(2048, 512, false, {32, 1}));
  // The meta: absent is the first SID-lite; a round trip; malformed and out
  // of range are errors naming the file.
  CHECK(sid_lite_refine_from_meta(nlohmann::json::object(), "f.svm") == SidLiteRefine{32, 1});
  nlohmann::json meta;
  meta["refine"] = sid_lite_refine_meta({48, 2});
  CHECK(sid_lite_refine_from_meta(meta, "f.svm") == SidLiteRefine{48, 2});
  meta["refine"]["depth"] = 9;
  CHECK_THROWS_WITH(sid_lite_refine_from_meta(meta, "f.svm"),
                    Catch::Contains("f.svm") && Catch::Contains("out of range"));
  meta["refine"] = "wide";
  CHECK_THROWS_WITH(sid_lite_refine_from_meta(meta, "f.svm"), Catch::Contains("f.svm"));
}

TEST_CASE("sid-lite with a ridge path starts at the ridge decoder's images, the path fixed",
          "[sid]") {
  torch::manual_seed(2);
  LinearDecoder ridge(256, 64);
  {
    torch::NoGradGuard no_grad;
    ridge->input_mean.copy_(torch::rand({256}));
    ridge->weight.copy_(torch::randn({256, 64 * 64}) * 0.01);
    ridge->output_mean.copy_(torch::rand({64 * 64}));
  }
  SidLite lite(256, 64, /*ridge_path=*/true);
  lite->start_from_ridge(*ridge);
  lite->eval();
  auto counts = torch::rand({4, 256}) * 4;
  auto want = ridge->forward(counts);
  auto got = lite->forward(counts);
  CHECK((got - want).abs().max().item<float>() < 1e-4);
  // Training then adds to the ridge images: the path itself is not trained,
  // while the dense stage and the residual network are.
  CHECK_FALSE(lite->ridge->weight.requires_grad());
  CHECK_FALSE(lite->ridge->bias.requires_grad());
  CHECK(lite->out->weight.requires_grad());
  CHECK(sid_lite_flops_per_frame(256, 64, true) - sid_lite_flops_per_frame(256, 64) ==
        Approx(2.0 * 256 * 4096));
  // A SID-lite without the path refuses to start from one.
  SidLite plain(256, 64);
  CHECK_THROWS(plain->start_from_ridge(*ridge));
}

TEST_CASE("sid: input scaling is min-max per cell", "[sid]") {
  Sid sid(3);
  sid->fit_input_scaling(torch::tensor({{0.f, 2.f, 5.f}, {4.f, 2.f, 1.f}}));
  CHECK(torch::allclose(sid->input_min, torch::tensor({0.f, 2.f, 1.f})));
  CHECK(torch::allclose(sid->input_range,
                        torch::tensor({4.f, 1.f, 4.f})));  // a constant cell keeps range 1
}

TEST_CASE("cnn encoder: shapes and positive rates", "[cnn]") {
  RetinaConfig rc;
  rc.grid = 8;
  const auto cells = make_retina_cells(rc);
  CnnEncoder e(CnnEncoderConfig{64, 4, static_cast<int>(cells.size())}, cells);
  auto r = e->forward(torch::rand({2, 1, 64, 64}));
  CHECK(r.sizes() == torch::IntArrayRef({2, 128}));
  CHECK(r.min().item<float>() >= 0);
  CHECK_THROWS(CnnEncoder(CnnEncoderConfig{64, 4, 7}, cells));
}
