#pragma once
// What the training files share (models/training.cpp, models/temporal_training.cpp): autocast,
// the decoder file's metadata, and a checkpoint folder's run state. Not for other users.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <random>
#include <string>

#include <ATen/autocast_mode.h>
#include <torch/optim/adam.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "models/training.h"

namespace spikevid {

class Encoder;
class Dataset;

namespace detail {

// Autocast on for the scope: the listed ops (matrix products, convolutions)
// run in `dtype`, the rest in float32; restored on exit.
class AutocastScope {
 public:
  AutocastScope(torch::Device device, torch::ScalarType dtype)
      : cuda_(device.is_cuda()), on_(dtype != torch::kFloat32) {
    if (!on_) return;
    if (cuda_) {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(true);
    }
  }
  ~AutocastScope() {
    if (!on_) return;
    if (cuda_)
      at::autocast::set_enabled(false);
    else
      at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool cuda_, on_;
};

// A decoder file's metadata as training writes it: kind, architecture, sizes,
// the encoder, the data and the training settings.
nlohmann::json decoder_meta(const std::string& arch, Encoder& encoder, const Dataset& data,
                            const TrainConfig& c);

// What a checkpoint folder holds besides the weights: where the run stands.
struct RunState {
  int epoch = 0;  // epochs finished
  int64_t images_seen = 0;
  double best_val_ssim = -1;
  double seconds = 0;       // training time so far, over all sessions
  int schedule_epochs = 0;  // the epochs a cosine schedule spans (0: not fixed yet)
  nlohmann::json history = nlohmann::json::array();
};

void save_state(const std::filesystem::path& dir, const RunState& s);
RunState load_state(const std::filesystem::path& dir);
// The first parameter group's learning rate to `lr`; the other groups keep
// their ratio to it.
void set_lr(torch::optim::Adam& opt, double lr);

// One epoch's batches: `rng` is the epoch's own (a resumed run draws what an
// unbroken one would); after each batch it calls after_batch(items trained),
// which returns true when the run must stop.
using EpochBatches = std::function<void(int epoch, std::mt19937_64& rng,
                                        const std::function<bool(int64_t)>& after_batch)>;

// The epochs of a resumable run (train_sid, train_temporal), from st.epoch:
// the learning rate of a cosine schedule (with --minutes over the epochs that
// fit, fixed from the first epoch's time and recorded), `save_checkpoint`
// every config.checkpoint_minutes and after each epoch, `validate(finished)`
// after each epoch and when stopped, and the stop on --minutes or Ctrl-C.
// `elapsed` gives this session's seconds. Ends with one line saying how far
// it came (`unit`: "images" or "frames"). Returns whether it was stopped.
bool run_epochs(const TrainConfig& c, RunState& st, torch::optim::Adam& opt,
                const std::function<double()>& elapsed, const EpochBatches& batches,
                const std::function<void(bool finished)>& validate,
                const std::function<void()>& save_checkpoint, const char* unit, std::ostream& log);

}  // namespace detail
}  // namespace spikevid
