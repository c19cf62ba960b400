// TorchScript exports (models/export.h): loaded back with torch::jit::load,
// they give the C++ modules' images and rates, BatchNorm folded in.
#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/cnn_encoder.h"
#include "models/export.h"
#include "models/linear_decoder.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::perturb;
using spikevid::testing::randomize;
using spikevid::testing::TempDir;

namespace {

torch::Tensor run_script(torch::jit::Module m, const TempDir& dir, const std::string& name,
                         const torch::Tensor& x) {
  save_torchscript(m, dir / name);
  auto loaded = torch::jit::load(dir / name);
  loaded.eval();
  torch::NoGradGuard no_grad;
  return loaded.forward({x}).toTensor();
}

template <class Net>
torch::Tensor run_net(Net& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  net->eval();
  return net->forward(x).clamp(0, 1);
}

}  // namespace

TEST_CASE("export: TorchScript decoders give the C++ decoders' images", "[export]") {
  TempDir dir("export");
  torch::manual_seed(11);
  const auto counts = torch::poisson(torch::full({3, 300}, 2.0));

  Sid sid(300);
  sid->fit_input_scaling(torch::poisson(torch::full({64, 300}, 2.0)));
  perturb(*sid);
  CHECK(torch::allclose(run_script(to_torchscript(*sid), dir, "sid.pt", counts),
                        run_net(sid, counts), 1e-4, 1e-4));

  SidLite lite(300, 48, /*ridge_path=*/true);
  {
    LinearDecoder ridge(300, 64);
    randomize(*ridge);
    lite->set_ridge(*ridge);
  }
  perturb(*lite);
  CHECK(torch::allclose(run_script(to_torchscript(*lite), dir, "lite.pt", counts),
                        run_net(lite, counts), 1e-4, 1e-4));
  // [B,bins,N] counts too, as the pipeline hands them over.
  CHECK(torch::allclose(run_script(to_torchscript(*lite), dir, "lite.pt", counts.unsqueeze(1)),
                        run_net(lite, counts), 1e-4, 1e-4));

  LinearDecoder linear(300, 64);
  randomize(*linear);
  CHECK(torch::allclose(run_script(to_torchscript(*linear), dir, "linear.pt", counts),
                        run_net(linear, counts), 1e-5, 1e-5));
}

TEST_CASE("export: the TorchScript encoder gives the C++ encoder's rates and its window",
          "[export]") {
  TempDir dir("export-enc");
  torch::manual_seed(12);
  CnnEncoder enc(CnnEncoderConfig{64, 4, 50}, CellTable{});
  perturb(*enc);
  const auto images = torch::rand({2, 1, 64, 64});
  auto m = to_torchscript(*enc, 1.0 / 30, 1);
  const auto got = run_script(m, dir, "enc.pt", images);
  torch::NoGradGuard no_grad;
  CHECK(torch::allclose(got, enc->forward(images), 1e-4, 1e-4));
  auto loaded = torch::jit::load(dir / "enc.pt");
  CHECK(loaded.attr("window_s").toDouble() == Approx(1.0 / 30));
  CHECK(loaded.attr("bins").toInt() == 1);
}

TEST_CASE("export: an unwritable path is one line naming it, nothing left behind", "[export]") {
  TempDir dir("export-bad");
  LinearDecoder linear(10, 64);
  auto m = to_torchscript(*linear);
  CHECK_THROWS_WITH(save_torchscript(m, dir / "no/such/folder/x.pt"),
                    Catch::Contains("no/such/folder/x.pt"));
}
