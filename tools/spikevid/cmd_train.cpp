// spikevid train, spikevid fit-encoder.
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "models/dataset.h"
#include "models/encoder.h"
#include "models/fit_encoder.h"
#include "models/retina.h"
#include "models/training.h"
#include "tools/spikevid/cli_common.h"
#ifdef SPIKEVID_HAVE_IO
#include "io/recording.h"
#endif

namespace spikevid::cli {
namespace {

struct TrainArgs {
  CommonOptions common;
  std::string data, encoder = "models/weights/encoder-cnn.svm", out, decoder = "sid";
  TrainConfig train;
  DatasetOptions dataset;
  int bins = 1;
  int epochs = 0;  // 0: the decoder's default
  std::string precision = "float32";
  std::string loss = "mse";  // checked by --loss's IsMember; Loss in run_train
  bool sequence_frames_given = false;
  bool windows_given = false;
  int64_t windows = 3;
  bool decoder_is_linear = false;  // linear or linear-multi: closed form
  std::vector<int64_t> refine;     // --refine CHANNELS,DEPTH
};

struct FitArgs {
  CommonOptions common;
  std::string data, recording, out = "models/weights/encoder-cnn.svm";
  int grid = 32;
  FitEncoderConfig fit;
  DatasetOptions dataset;
};

void check_output_path(const std::string& out) {
  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw std::runtime_error(out + ": folder " + parent.string() + " does not exist");
}

void run_train(TrainArgs& a) {
  if (a.train.width > 0 && a.decoder != "sid-lite")
    throw UsageError("--width: only sid-lite has a width to choose");
  if (!a.refine.empty()) {
    if (a.decoder != "sid-lite")
      throw UsageError("--refine: only sid-lite has a residual network to size");
    if (a.refine[1] > 8) throw UsageError("--refine: the depth must be 1 to 8");
    a.train.refine_channels = a.refine[0];
    a.train.refine_depth = a.refine[1];
  }
  if (!a.train.ridge_init.empty() && a.decoder != "sid-lite")
    throw UsageError("--ridge-path: only sid-lite has a ridge path");
  if (a.decoder == "sid-lite-gru" && a.train.init_weights.empty())
    throw UsageError("--decoder sid-lite-gru: give --init, the SID-lite it starts from");
  if (a.decoder != "sid-lite-gru" &&
      (a.sequence_frames_given || a.train.hidden > 0 || a.train.train_refine))
    throw UsageError(
        "--sequence-frames, --hidden and --train-refine: only sid-lite-gru trains on sequences");
  a.train.precision = parse_precision(a.precision);
  a.train.loss = a.loss == "ssim-l1" ? Loss::ssim_l1 : Loss::mse;
  if (a.decoder != "linear-multi" && a.windows_given)
    throw UsageError("--windows: only linear-multi decodes several windows");
  a.decoder_is_linear = a.decoder == "linear" || a.decoder == "linear-multi";
  if (a.windows_given) a.train.windows = a.windows;
  if (a.decoder_is_linear && a.train.precision != torch::kFloat32)
    throw UsageError("--precision: the linear decoder is fitted in closed form, in float32");
  if (a.decoder_is_linear && a.train.loss != Loss::mse)
    throw UsageError("--loss: the linear decoder is fitted in closed form, on the MSE");
  const auto device = resolve_device(a.common);
  check_output_path(a.out);
  a.dataset.device = torch::Device(device);
  auto encoder = load_encoder(a.encoder, a.dataset.device);
  if (a.bins != 1) encoder->mutable_info().bins = a.bins;
  const auto data = Dataset::load(a.data, a.dataset);
  a.train.architecture = a.decoder;
  a.train.epochs = a.epochs > 0 ? a.epochs : a.decoder_is_linear ? 3 : 100;
  a.train.command = command_line();
  a.train.should_stop = stop_requested;
  std::cerr << "train: " << a.decoder << " on " << data.name() << " (" << data.kind() << ", "
            << (data.kind() == "photos"
                    ? std::to_string(data.train_size()) + " training photos and frames of " +
                          std::to_string(data.train_clips()) + " clips"
                    : std::to_string(data.train_size()) + " training images")
            << "), encoder " << encoder->info().id << " with " << encoder->info().n_cells
            << " cells, on " << device << " with " << torch::get_num_threads() << " threads\n";
  if (a.decoder == "sid-lite-gru")
    train_temporal(*encoder, data, a.train, a.out, std::cerr);
  else if (a.decoder == "linear-multi")
    train_linear_multi(*encoder, data, a.train, a.out, std::cerr);
  else if (a.decoder != "linear")
    train_sid(*encoder, data, a.train, a.out, std::cerr);
  else
    train_linear(*encoder, data, a.train, a.out, std::cerr);
}

#ifdef SPIKEVID_HAVE_IO
// A recording's frames as 64×64 model inputs and its counts, split as the file says.
RecordedData load_recorded(const std::string& path, torch::Device device) {
  const auto r = read_recording(path);
  if (r.height != r.width) throw std::runtime_error(path + ": stimulus frames must be square");
  auto images = torch::from_blob(const_cast<float*>(r.stimulus.data()),
                                 {r.frames, 1, r.height, r.width}, torch::kFloat32)
                    .clone();
  images = resize_to_patch(images);
  auto counts =
      torch::from_blob(const_cast<float*>(r.counts.data()), {r.frames, r.cells}, torch::kFloat32)
          .clone();
  auto split =
      torch::from_blob(const_cast<std::uint8_t*>(r.split.data()), {r.frames}, torch::kUInt8)
          .clone();
  RecordedData d;
  auto pick = [&](int s, torch::Tensor& im, torch::Tensor& c) {
    auto idx = (split == s).nonzero().flatten();
    if (idx.numel() == 0)
      throw std::runtime_error(path + ": the split has no " +
                               (s == 0   ? "training"
                                : s == 1 ? "validation"
                                         : "test") +
                               " frames");
    im = images.index_select(0, idx).to(device);
    c = counts.index_select(0, idx).to(device);
  };
  pick(0, d.train_images, d.train_counts);
  pick(1, d.val_images, d.val_counts);
  pick(2, d.test_images, d.test_counts);
  d.window_s = r.window_s;
  // A recording names no field sizes: each read-out mask starts as a bump of
  // this sigma at its cell, and the fit shapes it.
  constexpr float kStartSigma = 2.0f;
  const double scale = static_cast<double>(kPatchSize) / r.width;
  for (std::size_t i = 0; i < r.cell_x.size(); ++i)
    d.cells.push_back({r.cell_type[i] == 1 ? CellType::off : CellType::on,
                       static_cast<float>(r.cell_x[i] * scale),
                       static_cast<float>(r.cell_y[i] * scale), kStartSigma, 0.0f});
  d.describe = {{"recording", path},
                {"frames", r.frames},
                {"cells", r.cells},
                {"frame_size", r.width},
                {"window_s", r.window_s},
                {"split",
                 {{"train", d.train_images.size(0)},
                  {"val", d.val_images.size(0)},
                  {"test", d.test_images.size(0)}}}};
  return d;
}
#endif

void run_fit(FitArgs& a) {
  const auto device = resolve_device(a.common);
  check_output_path(a.out);
  a.dataset.device = torch::Device(device);
  a.fit.command = command_line();
  a.fit.should_stop = stop_requested;
  if (!a.recording.empty()) {
#ifdef SPIKEVID_HAVE_IO
    const auto d = load_recorded(a.recording, a.dataset.device);
    std::cerr << "fit-encoder: CNN to " << a.recording << " (" << d.train_counts.size(1)
              << " cells, " << d.train_images.size(0) << " training frames), on " << device << "\n";
    fit_cnn_encoder_to_recording(d, a.fit, a.out, std::cerr);
    return;
#else
    throw UsageError("fit-encoder --recording needs a build with HDF5");
#endif
  }
  if (a.data.empty())
    throw UsageError("fit-encoder: give --data (simulated recordings) or --recording");
  RetinaConfig rc;
  rc.grid = a.grid;
  auto truth = make_retina_encoder(rc);
  truth->to(a.dataset.device);
  const auto data = Dataset::load(a.data, a.dataset);
  std::cerr << "fit-encoder: CNN to " << truth->info().id << " (" << truth->info().n_cells
            << " cells) on " << data.name() << ", on " << device << "\n";
  fit_cnn_encoder(*truth, data, a.fit, a.out, std::cerr);
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto ta = std::make_shared<TrainArgs>();
  auto* t = app.add_subcommand(
      "train", "Train a decoder (SID, SID-lite or linear) on image-spike pairs from an encoder");
  t->option_defaults()->always_capture_default();
  t->footer(
      "Examples:\n"
      "  spikevid train --data data/packs/natural.pack -o models/weights/sid-natural.svm \\\n"
      "      --checkpoints checkpoints/sid-natural --minutes 60\n"
      "  spikevid train --decoder linear --data data/packs/natural.pack -o "
      "models/weights/linear-natural.svm\n"
      "  spikevid train --decoder sid-lite --precision bfloat16 --data data/packs/scenes.pack \\\n"
      "      -o models/weights/sid-lite-natural.svm --checkpoints checkpoints/lite --minutes 300\n"
      "  spikevid train --decoder sid-lite-gru --init models/weights/sid-lite-natural.svm \\\n"
      "      --precision bfloat16 --data data/packs/scenes.pack --batch 16 --loss ssim-l1 \\\n"
      "      -o models/weights/sid-lite-gru-natural.svm --checkpoints checkpoints/gru\n"
      "The same command again continues a run from its --checkpoints folder, after Ctrl-C or\n"
      "--minutes (they count per run), to --epochs; a cosine schedule keeps the epochs its first\n"
      "run fixed.");
  t->add_option("--data", ta->data, "packed data file (spikevid pack-data)")
      ->required()
      ->check(CLI::ExistingFile);
  t->add_option("--encoder", ta->encoder, "encoder: model file, TorchScript .pt, or 'retina'");
  t->add_option("-o,--out", ta->out, "decoder model file to write")->required();
  t->add_option(
       "--decoder", ta->decoder,
       "sid (the paper's), sid-lite (about 11x fewer FLOPs), sid-lite-gru (SID-lite with a "
       "recurrent state, for video: trained on sequences from --init), linear, or "
       "linear-multi (ridge on the last --windows windows: the temporal baseline)")
      ->check(CLI::IsMember({"sid", "sid-lite", "sid-lite-gru", "linear", "linear-multi"}));
  t->add_option_function<int64_t>(
       "--windows",
       [ta](const int64_t& k) {
         ta->windows = k;
         ta->windows_given = true;
       },
       "linear-multi: the windows (frames) it decodes together, the newest last (default 3)")
      ->check(CLI::Range(int64_t{2}, int64_t{16}));
  t->add_option_function<int64_t>(
       "--sequence-frames",
       [ta](const int64_t& n) {
         ta->train.sequence_frames = n;
         ta->sequence_frames_given = true;
       },
       "sid-lite-gru: frames a training sequence has, backpropagated through (default 8)")
      ->check(CLI::Range(int64_t{2}, int64_t{64}));
  t->add_flag("--train-refine", ta->train.train_refine,
              "sid-lite-gru: the residual network after the GRU learns too, at a tenth of "
              "--lr (default: only the GRU learns)");
  t->add_option("--hidden", ta->train.hidden,
                "sid-lite-gru: channels of the recurrent state (default 24)")
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  t->add_option("--width", ta->train.width,
                "sid-lite: hidden units of its dense stage (default 512, as in SID)")
      ->check(CLI::Range(int64_t{1}, int64_t{16384}));
  t->add_option("--refine", ta->refine,
                "sid-lite: CHANNELS,DEPTH of its residual network (default 32,1, or --init's; "
                "from an --init of another size: its dense stage and ridge path, this "
                "network fresh)")
      ->expected(2)
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  t->add_option("--ridge-path", ta->train.ridge_init,
                "sid-lite: add a linear path from the counts to the pixels, started from this "
                "linear decoder file (training then starts at its images)")
      ->check(CLI::ExistingFile);
  t->add_option("--epochs", ta->epochs,
                "epochs; linear: passes over fresh spikes (default: sid 100, linear 3)")
      ->check(CLI::Range(1, 100000));
  t->add_option("--batch", ta->train.batch, "batch size")->check(CLI::Range(2, 65536));
  t->add_option("--lr", ta->train.lr, "Adam learning rate")->check(CLI::Range(1e-7, 1.0));
  t->add_option("--lr-schedule", ta->train.lr_schedule,
                "constant, or cosine (down to a hundredth of --lr over the epochs, or over the "
                "epochs that fit in --minutes)")
      ->check(CLI::IsMember({"constant", "cosine"}));
  t->add_option("--images-per-epoch", ta->train.images_per_epoch, "training images per epoch")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 30));
  t->add_option("--minutes", ta->train.max_minutes, "stop after this many minutes (0: no limit)")
      ->check(CLI::Range(0.0, 1e6));
  t->add_option("--checkpoints", ta->train.checkpoint_dir, "checkpoint folder (resumes from it)");
  t->add_option("--checkpoint-minutes", ta->train.checkpoint_minutes, "minutes between checkpoints")
      ->check(CLI::Range(0.1, 1e4));
  t->add_option("--init", ta->train.init_weights, "start from this decoder file")
      ->check(CLI::ExistingFile);
  t->add_option("--seed", ta->train.seed, "random seed")->check(CLI::NonNegativeNumber);
  t->add_option("--loss", ta->loss,
                "mse (the paper's), or ssim-l1: 0.84 (1 - SSIM) + 0.16 L1, sharper images")
      ->check(CLI::IsMember({"mse", "ssim-l1"}));
  t->add_option("--precision", ta->precision,
                "float32, or bfloat16: matrix products and convolutions in bfloat16 (AMX on "
                "this CPU), weights and optimizer in float32")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  t->add_option("--bins", ta->bins, "time bins per window")->check(CLI::Range(1, 64));
  t->add_option("--max-fraction", ta->dataset.max_fraction,
                "largest patch window, as a fraction of a photo's long side (1: whole-frame views)")
      ->check(CLI::Range(0.05, 1.0));
  t->add_option("--val-count", ta->dataset.val_count, "validation patches")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  add_common_options(*t, ta->common);
  t->callback([ta] { run_train(*ta); });

  auto fa = std::make_shared<FitArgs>();
  auto* f =
      app.add_subcommand("fit-encoder", "Fit the CNN encoder to the parametric retina's spikes");
  f->option_defaults()->always_capture_default();
  f->footer(
      "Examples:\n"
      "  spikevid fit-encoder --data data/packs/natural.pack -o models/weights/encoder-cnn.svm "
      "--minutes 20\n"
      "  spikevid fit-encoder --recording my_cells.h5 -o my-encoder.svm");
  f->add_option("--data", fa->data,
                "packed data file: fit to the parametric retina's spikes to its photos")
      ->check(CLI::ExistingFile);
  f->add_option("--recording", fa->recording, "fit to a recording instead (HDF5 layout: README)")
      ->check(CLI::ExistingFile);
  f->add_option("-o,--out", fa->out, "encoder model file to write");
  f->add_option("--grid", fa->grid, "retina cells per side per mosaic (2·grid² cells)")
      ->check(CLI::Range(1, 64));
  f->add_option("--channels", fa->fit.channels, "feature maps per layer")
      ->check(CLI::Range(1, 256));
  f->add_option("--epochs", fa->fit.epochs, "epochs")->check(CLI::Range(1, 100000));
  f->add_option("--batch", fa->fit.batch, "batch size")->check(CLI::Range(2, 65536));
  f->add_option("--lr", fa->fit.lr, "Adam learning rate")->check(CLI::Range(1e-7, 1.0));
  f->add_option("--images-per-epoch", fa->fit.images_per_epoch, "training images per epoch")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 30));
  f->add_option("--minutes", fa->fit.max_minutes, "stop after this many minutes (0: no limit)")
      ->check(CLI::Range(0.0, 1e6));
  f->add_option("--seed", fa->fit.seed, "random seed")->check(CLI::NonNegativeNumber);
  add_common_options(*f, fa->common);
  f->callback([fa] { run_fit(*fa); });
}

}  // namespace spikevid::cli
