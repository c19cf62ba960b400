#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/encoder.h"
#include "models/fit_encoder.h"
#include "models/model_file.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;

// A "recording" made with the parametric retina: the CNN fitted to its counts
// must predict held-out counts better than each cell's mean does.
TEST_CASE("fit-encoder: fits recorded counts and beats the mean-rate model", "[fit_encoder]") {
  TempDir dir("fit");
  torch::manual_seed(8);
  auto retina = load_encoder("retina:grid=4", torch::kCPU);  // 32 cells
  auto smooth = [](int64_t n) {
    auto x = torch::rand({n, 1, 8, 8});
    namespace F = torch::nn::functional;
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{64, 64})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  };
  RecordedData d;
  d.train_images = smooth(600);
  d.val_images = smooth(100);
  d.test_images = smooth(100);
  // Four windows' worth of spikes per frame: enough signal for a short fit.
  auto counts = [&](const torch::Tensor& im) {
    return torch::poisson(retina->rates(im) * (4.0 / 30));
  };
  d.train_counts = counts(d.train_images);
  d.val_counts = counts(d.val_images);
  d.test_counts = counts(d.test_images);
  d.window_s = 4.0 / 30;
  d.cells = retina->info().cells;
  d.describe = {{"recording", "synthetic"}};
  FitEncoderConfig c;
  c.channels = 4;
  c.epochs = 4;
  c.batch = 32;
  std::ostringstream log;
  const auto meta = fit_cnn_encoder_to_recording(d, c, dir / "enc.svm", log);
  const auto& test = meta["scores"]["test"];
  CHECK(test["rate_corr"].get<double>() > 0.3);
  CHECK(test["ll_model"].get<double>() > test["ll_null"].get<double>());
  auto enc = load_encoder(dir / "enc.svm", torch::kCPU);
  CHECK(enc->info().n_cells == 32);
  CHECK(enc->info().window_s == Approx(4.0 / 30));
  CHECK(enc->rates(d.test_images).sizes() == torch::IntArrayRef({100, 32}));
}
