#pragma once
// Training the decoders on image–spike pairs from an encoder, with spikes
// drawn afresh every epoch: SID by Adam on the MSE, the linear decoder in
// closed form. Checkpoints every few minutes; an interrupted run resumes from
// its checkpoint folder. No threads here; torch's intra-op pool does the work.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

namespace spikevid {

class Encoder;
class Dataset;

// The training loss: mse (the paper's), or ssim_l1, 0.84·(1 − SSIM) + 0.16·L1
// (Zhao et al., "Loss functions for image restoration with neural networks",
// 2017), SSIM with the window the scores use.
enum class Loss { mse, ssim_l1 };
const char* loss_name(Loss loss);  // "mse", "ssim-l1": as `train --loss` takes it

struct TrainConfig {
  std::string architecture = "sid";  // "sid" or "sid-lite" (train_sid), "linear"
  int64_t width = 0;                 // sid-lite: the dense stage's width (0: 512)
  // sid-lite: the residual network's channels and depth (models/sid_lite.h;
  // 0: the checkpoint's or --init's, else 32 and 1). From an --init of
  // another size, its dense stage and ridge path, the residual network fresh.
  int64_t refine_channels = 0, refine_depth = 0;
  // sid-lite: a ridge path (models/sid_lite.h), started from this linear
  // decoder file ("": none).
  std::string ridge_init;
  int epochs = 100;
  int batch = 64;
  double lr = 1e-3;  // Adam, as the reference
  // "constant", or "cosine": from lr down to lr·lr_min_fraction over the
  // epochs (with max_minutes: over the epochs that fit in the time).
  std::string lr_schedule = "constant";
  double lr_min_fraction = 0.01;
  int64_t images_per_epoch = 40000;  // photos: fresh patches each epoch
  double max_minutes = 0;            // 0: no time limit
  double checkpoint_minutes = 5;
  std::string checkpoint_dir;  // "" : no checkpoints
  std::string init_weights;    // start from this decoder file (same architecture)
  // sid-lite-gru: frames a training sequence has (backpropagation through all
  // of them) and the GRU's state channels (0: the default).
  int64_t sequence_frames = 8;
  int64_t hidden = 0;
  // sid-lite-gru: the residual network learns too, at refine_lr_ratio × lr.
  bool train_refine = false;
  double refine_lr_ratio = 0.1;
  int64_t windows = 3;  // linear-multi: the windows it sees
  std::uint64_t seed = 1;
  Loss loss = Loss::mse;
  // float32, or bfloat16: matrix products and convolutions in bfloat16
  // (autocast; on this CPU's AMX tiles), weights and Adam's state in float32.
  torch::ScalarType precision = torch::kFloat32;
  std::string command;                // recorded in the model file
  std::function<bool()> should_stop;  // polled between batches (Ctrl-C)
};

struct Scores {
  double mse = 0, psnr = 0, ssim = 0;
  int64_t n = 0;
  nlohmann::json to_json() const;
};

// Decodes `images` through encoder → spikes (seeded) → decoder forward, in
// batches; `decode` maps counts [B,bins·N] to images [B,1,64,64]. With
// `ssim_each`, every image's SSIM too, in order.
Scores evaluate(Encoder& encoder, const std::function<torch::Tensor(const torch::Tensor&)>& decode,
                const torch::Tensor& images, std::uint64_t seed, int batch = 256,
                std::vector<double>* ssim_each = nullptr);

// The training loss (TrainConfig::loss) of images y against x, in float32.
torch::Tensor training_loss(const torch::Tensor& y, const torch::Tensor& x, Loss loss);

// One optimisation step on the images x [B,1,64,64]: spikes drawn by the
// encoder (float32, no grad), forward in `precision` (autocast), the loss in
// float32, backward, and the optimiser's step. Returns the loss.
double train_step(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                  torch::optim::Optimizer& optimizer, Encoder& encoder, const torch::Tensor& x,
                  torch::ScalarType precision, Loss loss = Loss::mse);

// The learning rate of a cosine schedule at `epoch` (0-based) of `epochs`.
double cosine_lr(double lr, double lr_min, int epoch, int epochs);

// Trains SID or SID-lite (config.architecture) and writes the best model (by validation SSIM) to
// out_path. Progress goes to `log`. Returns the model file's metadata.
nlohmann::json train_sid(Encoder& encoder, const Dataset& data, const TrainConfig& config,
                         const std::string& out_path, std::ostream& log);

// Trains SID-lite-GRU (models/sid_lite_gru.h) on sequences
// (Dataset::train_sequences), starting from config.init_weights: a SID-lite
// file (kept as it is: the GRU alone learns) or a SID-lite-GRU file. Batches count sequences;
// images_per_epoch counts frames. Validation: SSIM over every frame of the
// fixed validation sequences. Writes the best model to out_path.
nlohmann::json train_temporal(Encoder& encoder, const Dataset& data, const TrainConfig& config,
                              const std::string& out_path, std::ostream& log);

// The multi-window ridge decoder ("linear-multi", the temporal decoders'
// baseline): ridge regression from the counts of the last config.windows
// windows, oldest first, to the newest frame, fitted in closed form on
// training sequences (Dataset::train_sequences), the penalty chosen on the
// validation sequences' frames.
nlohmann::json train_linear_multi(Encoder& encoder, const Dataset& data, const TrainConfig& config,
                                  const std::string& out_path, std::ostream& log);

// Decodes sequences [S,L,1,64,64] frame by frame through encoder → spikes
// (seeded) → `step`, which maps counts [B,bins·N] of frame t of B sequences to
// images, keeping the sequences' state itself (`reset` is called before each
// batch of sequences). Scores over every frame.
Scores evaluate_sequences(Encoder& encoder,
                          const std::function<torch::Tensor(const torch::Tensor&)>& step,
                          const std::function<void()>& reset, const torch::Tensor& sequences,
                          std::uint64_t seed, int batch = 64);

// Fits the ridge decoder on config.images_per_epoch × config.epochs training
// images (spikes drawn afresh for each pass), the penalty chosen on validation.
nlohmann::json train_linear(Encoder& encoder, const Dataset& data, const TrainConfig& config,
                            const std::string& out_path, std::ostream& log);

}  // namespace spikevid
