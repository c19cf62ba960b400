#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/encoder.h"
#include "models/retina.h"
#include "models/spikes.h"

using namespace spikevid;

namespace {

// Natural-like images without data files: 1/f amplitude spectrum noise,
// normalised to the mean and contrast of the natural patches (0.48, 0.25).
torch::Tensor pink_noise(int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto fy = torch::fft::fftfreq(64, torch::kFloat32).view({64, 1});
  auto fx = torch::fft::rfftfreq(64, torch::kFloat32).view({1, 33});
  auto f = (fy * fy + fx * fx).sqrt().clamp_min(1.0 / 64);
  auto spec = torch::complex(torch::randn({n, 1, 64, 33}), torch::randn({n, 1, 64, 33})) / f;
  auto img = torch::fft::irfft2(spec, std::vector<int64_t>{64, 64});
  auto flat = img.flatten(1);
  img = (img - flat.mean(1).view({n, 1, 1, 1})) / flat.std(1).view({n, 1, 1, 1});
  return (0.48 + 0.25 * img).clamp(0, 1);
}

}  // namespace

TEST_CASE("retina: cell table and output shape", "[retina]") {
  RetinaConfig c;
  c.grid = 16;
  Retina r(c);
  REQUIRE(r->cells.size() == 512);
  CHECK(count_cells(r->cells, CellType::on) == 256);
  CHECK(count_cells(r->cells, CellType::off) == 256);
  for (const auto& cell : r->cells) {
    CHECK(cell.x >= 0);
    CHECK(cell.x < 64);
    CHECK(cell.y >= 0);
    CHECK(cell.y < 64);
  }
  auto rates = r->forward(torch::rand({3, 1, 64, 64}));
  CHECK(rates.sizes() == torch::IntArrayRef({3, 512}));
  CHECK(rates.min().item<float>() >= 0);
  CHECK(rates.max().item<float>() <= 200);
}

TEST_CASE("retina: the mosaic is deterministic for a seed", "[retina]") {
  RetinaConfig c;
  const auto a = make_retina_cells(c), b = make_retina_cells(c);
  c.seed = 2;
  const auto other = make_retina_cells(c);
  REQUIRE(a.size() == b.size());
  int same = 0, moved = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same += a[i].x == b[i].x && a[i].y == b[i].y;
    moved += a[i].x != other[i].x;
  }
  CHECK(same == static_cast<int>(a.size()));
  CHECK(moved > static_cast<int>(a.size()) / 2);
}

TEST_CASE("retina: ON cells fire for light, OFF cells for dark", "[retina]") {
  RetinaConfig c;
  c.grid = 16;
  Retina r(c);
  // A spot the size of the receptive-field centre, on gray.
  auto spot = [&](const CellInfo& cell, double value) {
    auto img = torch::full({1, 1, 64, 64}, 0.5);
    auto ys = torch::arange(64).view({64, 1}).to(torch::kFloat32),
         xs = torch::arange(64).view({1, 64}).to(torch::kFloat32);
    auto inside = ((xs + 0.5 - cell.x).pow(2) + (ys + 0.5 - cell.y).pow(2)) <=
                  cell.center_sigma * cell.center_sigma;
    return torch::where(inside.view({1, 1, 64, 64}), torch::full_like(img, value), img);
  };
  const auto gray = torch::full({1, 1, 64, 64}, 0.5);
  const int64_t on = 100, off = 256 + 100;
  REQUIRE(r->cells[on].type == CellType::on);
  REQUIRE(r->cells[off].type == CellType::off);
  const float on_gray = r->forward(gray)[0][on].item<float>();
  const float off_gray = r->forward(gray)[0][off].item<float>();
  CHECK(r->forward(spot(r->cells[on], 1.0))[0][on].item<float>() > on_gray + 30);
  CHECK(r->forward(spot(r->cells[on], 0.0))[0][on].item<float>() < on_gray);
  CHECK(r->forward(spot(r->cells[off], 0.0))[0][off].item<float>() > off_gray + 30);
  CHECK(r->forward(spot(r->cells[off], 1.0))[0][off].item<float>() <= off_gray);
}

TEST_CASE("retina: rates are calibrated to ganglion cells on natural-like images", "[retina]") {
  Retina r(RetinaConfig{});
  auto rates = r->forward(pink_noise(64, 5));
  const double mean = rates.mean().item<double>();
  CHECK(mean >= 10);
  CHECK(mean <= 30);
  CHECK(rates.max().item<double>() > 150);  // peaks near the 200 Hz ceiling
  CHECK(rates.max().item<double>() <= 200);
}

TEST_CASE("spikes: Poisson counts, seeded, mean equal to variance", "[spikes]") {
  auto rates = torch::full({20000, 4}, 60.0);  // 2 spikes per 1/30 s window
  torch::manual_seed(11);
  auto a = draw_spikes(rates, 1.0 / 30, 1);
  torch::manual_seed(11);
  auto b = draw_spikes(rates, 1.0 / 30, 1);
  CHECK(torch::equal(a, b));
  CHECK(a.sizes() == torch::IntArrayRef({20000, 1, 4}));
  const double mean = a.mean().item<double>(), var = a.var().item<double>();
  CHECK(mean == Approx(2.0).epsilon(0.02));
  CHECK(var == Approx(mean).epsilon(0.05));
  CHECK(torch::equal(a, a.round()));
  // Bins split the window: their sum has the same mean.
  auto binned = draw_spikes(rates, 1.0 / 30, 4);
  CHECK(binned.sizes() == torch::IntArrayRef({20000, 4, 4}));
  CHECK(binned.sum(1).mean().item<double>() == Approx(2.0).epsilon(0.02));
}

TEST_CASE("encoder specs: the built-in retina and bad specs", "[encoder]") {
  auto e = load_encoder("retina:grid=16", torch::kCPU);
  CHECK(e->info().n_cells == 512);
  CHECK(e->info().architecture == "retina-dog");
  CHECK(e->spikes(torch::rand({2, 1, 64, 64})).sizes() == torch::IntArrayRef({2, 1, 512}));
  CHECK(load_encoder("retina", torch::kCPU)->info().id != e->info().id);
  CHECK_THROWS_WITH(load_encoder("retina:grid=0", torch::kCPU),
                    Catch::Contains("not an encoder spec"));
  CHECK_THROWS_WITH(load_encoder("retina:grid=x", torch::kCPU),
                    Catch::Contains("not an encoder spec"));
  CHECK_THROWS_WITH(load_encoder("/nonexistent/enc.svm", torch::kCPU),
                    Catch::Contains("/nonexistent/enc.svm"));
}
