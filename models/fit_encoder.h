#pragma once
// Fitting the CNN encoder to spike responses: by default those of the
// parametric retina to natural images (simulated recordings). Poisson
// likelihood on the counts, Adam; scored on held-out images by the
// correlation of predicted and true rates and the log-likelihood of counts.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "models/cell_table.h"

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

// A recording as tensors: images [T,1,S,S] in [0,1], counts [T,N] per window.
struct RecordedData {
  torch::Tensor train_images, train_counts, val_images, val_counts, test_images, test_counts;
  double window_s = 1.0 / 30;
  CellTable cells;          // may be empty: the read-out then starts uniform
  nlohmann::json describe;  // the file, its frames and split
};

// Fits to recorded counts. Scores: the correlation of predicted and observed
// counts (single trials: it stays below 1 even for a perfect model) and the
// log-likelihood against each cell's mean count.
nlohmann::json fit_cnn_encoder_to_recording(const RecordedData& data,
                                            const FitEncoderConfig& config,
                                            const std::string& out_path, std::ostream& log);

}  // namespace spikevid
