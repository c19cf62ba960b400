#pragma once
// Parameters of the parametric retina (see retina.h). No torch here: the
// command line fills this struct.
#include <cstdint>

#include <nlohmann/json_fwd.hpp>

namespace spikevid {

struct RetinaConfig {
  int image_size = 64;            // input is image_size² gray pixels in [0, 1]
  int grid = 32;                  // cells per side per mosaic: 2·grid² cells (32: 2,048)
  double center_sigma_on = 0.6;   // centre sigma, in units of the cell spacing
  double center_sigma_off = 0.5;  // OFF cells are smaller than ON cells in primate retina
  double surround_ratio = 3.0;    // surround sigma / centre sigma
  double surround_weight = 0.85;  // integrated surround / integrated centre
  double jitter = 0.15;           // position jitter, in units of the spacing
  // Calibrated on natural patches (data/packs/natural.pack, 2,000 patches):
  // mean 21 Hz, median 8 Hz, 99th percentile 135 Hz, 99.9th 188 Hz.
  double max_rate_hz = 200;  // saturation of the logistic rate function
  double gain = 20;          // logistic slope per unit of generator signal
  double bias = -3.2;        // logistic offset: 200·σ(−3.2) ≈ 8 Hz at zero contrast
  std::uint64_t seed = 1;    // mosaic jitter

  double spacing() const { return static_cast<double>(image_size) / grid; }
  int cell_count() const { return 2 * grid * grid; }
};

nlohmann::json to_json(const RetinaConfig& c);
RetinaConfig retina_config_from_json(const nlohmann::json& j);

}  // namespace spikevid
