#include "models/retina.h"

#include <cmath>
#include <random>

#include <torch/nn/functional.h>
#include <nlohmann/json.hpp>

namespace spikevid {
namespace F = torch::nn::functional;

nlohmann::json to_json(const RetinaConfig& c) {
  return {{"image_size", c.image_size},
          {"grid", c.grid},
          {"center_sigma_on", c.center_sigma_on},
          {"center_sigma_off", c.center_sigma_off},
          {"surround_ratio", c.surround_ratio},
          {"surround_weight", c.surround_weight},
          {"jitter", c.jitter},
          {"max_rate_hz", c.max_rate_hz},
          {"gain", c.gain},
          {"bias", c.bias},
          {"seed", c.seed}};
}

RetinaConfig retina_config_from_json(const nlohmann::json& j) {
  RetinaConfig c;
  c.image_size = j.at("image_size").get<int>();
  c.grid = j.at("grid").get<int>();
  c.center_sigma_on = j.at("center_sigma_on").get<double>();
  c.center_sigma_off = j.at("center_sigma_off").get<double>();
  c.surround_ratio = j.at("surround_ratio").get<double>();
  c.surround_weight = j.at("surround_weight").get<double>();
  c.jitter = j.at("jitter").get<double>();
  c.max_rate_hz = j.at("max_rate_hz").get<double>();
  c.gain = j.at("gain").get<double>();
  c.bias = j.at("bias").get<double>();
  c.seed = j.at("seed").get<std::uint64_t>();
  return c;
}

CellTable make_retina_cells(const RetinaConfig& config) {
  if (config.grid < 1 || config.grid > config.image_size)
    throw std::invalid_argument("retina: grid must be between 1 and the image size");
  const double s = config.spacing();
  std::mt19937_64 rng(config.seed);
  std::uniform_real_distribution<double> jitter(-config.jitter * s, config.jitter * s);
  const auto clamp = [&](double v) {
    return static_cast<float>(std::min(std::max(v, 0.0), config.image_size - 1e-3));
  };
  CellTable cells;
  // The OFF mosaic is shifted by half a spacing so the two interleave, as in retina.
  for (int type = 0; type < 2; ++type) {
    const double shift = type == 0 ? 0.5 : 1.0;
    const double cs = (type == 0 ? config.center_sigma_on : config.center_sigma_off) * s;
    for (int i = 0; i < config.grid; ++i)
      for (int j = 0; j < config.grid; ++j) {
        CellInfo c;
        c.type = type == 0 ? CellType::on : CellType::off;
        c.x = clamp((j + shift) * s + jitter(rng));
        c.y = clamp((i + shift) * s + jitter(rng));
        c.center_sigma = static_cast<float>(cs);
        c.surround_sigma = static_cast<float>(cs * config.surround_ratio);
        cells.push_back(c);
      }
  }
  return cells;
}

namespace {

torch::Tensor gaussian_2d(int radius, double sigma) {
  auto r = torch::arange(-radius, radius + 1, torch::kFloat64);
  auto g = torch::exp(-(r * r) / (2 * sigma * sigma));
  auto k = torch::outer(g, g);
  return k / k.sum();
}

}  // namespace

RetinaImpl::RetinaImpl(RetinaConfig c) : config(c), cells(make_retina_cells(c)) {
  const double s = c.spacing();
  const double max_surround =
      std::max(c.center_sigma_on, c.center_sigma_off) * s * c.surround_ratio;
  const int radius = static_cast<int>(std::ceil(3 * max_surround));
  std::vector<torch::Tensor> ks;
  for (double cs_units : {c.center_sigma_on, c.center_sigma_off}) {
    const double cs = cs_units * s;
    ks.push_back(gaussian_2d(radius, cs) -
                 c.surround_weight * gaussian_2d(radius, cs * c.surround_ratio));
  }
  kernels = register_buffer("kernels", torch::stack(ks).unsqueeze(1).to(torch::kFloat32));

  const auto n = static_cast<int64_t>(cells.size());
  auto g = torch::empty({1, n, 1, 2});
  auto sg = torch::empty({n});
  auto ch = torch::empty({n}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    // grid_sample with align_corners=false: pixel edge 0 ↦ −1, edge S ↦ +1.
    g[0][i][0][0] = 2.0 * cells[i].x / c.image_size - 1.0;
    g[0][i][0][1] = 2.0 * cells[i].y / c.image_size - 1.0;
    sg[i] = cells[i].type == CellType::on ? 1.0 : -1.0;
    ch[i] = cells[i].type == CellType::on ? 0 : 1;
  }
  grid = register_buffer("grid", g);
  sign = register_buffer("sign", sg);
  channel = register_buffer("channel", ch);
}

torch::Tensor RetinaImpl::generator(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 1 && images.size(2) == config.image_size &&
                  images.size(3) == config.image_size,
              "retina: expected images [B,1,", config.image_size, ",", config.image_size, "], got ",
              images.sizes());
  const int64_t pad = kernels.size(-1) / 2;
  // Replicate padding: a border is not an edge of the scene.
  auto padded = F::pad(images, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReplicate));
  auto maps = F::conv2d(padded, kernels);  // [B,2,S,S]
  const auto b = images.size(0);
  auto sampled =
      F::grid_sample(maps, grid.expand({b, -1, -1, -1}),
                     F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(false));
  // sampled: [B,2,N,1]; each cell reads its own type's map.
  auto per_cell =
      sampled.squeeze(-1).gather(1, channel.view({1, 1, -1}).expand({b, 1, -1})).squeeze(1);
  return per_cell * sign;
}

torch::Tensor RetinaImpl::forward(const torch::Tensor& images) {
  return config.max_rate_hz * torch::sigmoid(config.gain * generator(images) + config.bias);
}

}  // namespace spikevid
