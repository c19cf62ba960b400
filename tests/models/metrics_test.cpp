#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/metrics.h"

using namespace spikevid;

namespace {

// The images of the reference computation, made the same way here.
struct Images {
  torch::Tensor x, y, z;
};

Images reference_images() {
  auto i = torch::arange(64, torch::kFloat64).view({64, 1}).expand({64, 64});
  auto j = torch::arange(64, torch::kFloat64).view({1, 64}).expand({64, 64});
  auto x = 0.5 + 0.4 * torch::sin(0.3 * i) * torch::cos(0.2 * j);
  auto y = (x + 0.1 * torch::cos(0.7 * i + 0.3 * j)).clamp(0, 1);
  auto z = (0.3 + 0.5 * (i / 63.0) * (j / 63.0) + 0.05 * torch::sin(1.1 * i * j / 7.0)).clamp(0, 1);
  auto as_batch = [](const torch::Tensor& t) { return t.view({1, 1, 64, 64}); };
  return {as_batch(x), as_batch(y), as_batch(z)};
}

}  // namespace

// Reference values: scikit-image 0.19.3, structural_similarity(a, b,
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
// and peak_signal_noise_ratio(a, b, data_range=1), on the float64 images above.
TEST_CASE("metrics: SSIM, PSNR and MSE equal scikit-image's", "[metrics]") {
  const auto im = reference_images();
  CHECK(ssim_per_image(im.x, im.y)[0].item<double>() == Approx(0.8083815631426094).margin(1e-6));
  CHECK(ssim_per_image(im.x, im.z)[0].item<double>() == Approx(0.07714950926606073).margin(1e-6));
  CHECK(ssim_per_image(im.y, im.z)[0].item<double>() == Approx(0.07060072398934929).margin(1e-6));
  CHECK(ssim_per_image(im.x, im.x)[0].item<double>() == Approx(1.0).margin(1e-12));
  CHECK(psnr_per_image(im.x, im.y)[0].item<double>() == Approx(23.008924867637926).margin(1e-6));
  CHECK(psnr_per_image(im.x, im.z)[0].item<double>() == Approx(12.261265402359967).margin(1e-6));
  CHECK(mse_per_image(im.y, im.z)[0].item<double>() == Approx(0.06449586317539258).margin(1e-9));
  CHECK(std::isinf(psnr_per_image(im.x, im.x)[0].item<double>()));
}

TEST_CASE("metrics: per image over a batch, float32 inputs", "[metrics]") {
  const auto im = reference_images();
  auto a = torch::cat({im.x, im.x}).to(torch::kFloat32);
  auto b = torch::cat({im.y, im.z}).to(torch::kFloat32);
  auto s = ssim_per_image(a, b);
  REQUIRE(s.size(0) == 2);
  CHECK(s[0].item<double>() == Approx(0.80838).margin(1e-4));
  CHECK(s[1].item<double>() == Approx(0.07715).margin(1e-4));
  CHECK_THROWS(ssim_per_image(a, b.narrow(0, 0, 1)));
}
