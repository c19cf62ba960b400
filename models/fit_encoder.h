#pragma once
// Fitting the CNN encoder to spike responses: by default those of the
// parametric retina to natural images (simulated recordings). Poisson
// likelihood on the counts, Adam; scored on held-out images by the
// correlation of predicted and true rates and the log-likelihood of counts.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace spikevid {

class Encoder;
class Dataset;

struct FitEncoderConfig {
  int channels = 16;
  int epochs = 30;
  int batch = 64;
  double lr = 3e-3;
  int64_t images_per_epoch = 20000;
  double max_minutes = 0;
  std::uint64_t seed = 1;
  std::string command;
  std::function<bool()> should_stop;
};

// Fits to `truth`'s spikes (fresh every epoch) and writes the encoder file.
// Returns its metadata, with "scores" on the test images.
nlohmann::json fit_cnn_encoder(Encoder& truth, const Dataset& data, const FitEncoderConfig& config,
                               const std::string& out_path, std::ostream& log);

}  // namespace spikevid
