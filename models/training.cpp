#include "models/training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>

#include <ATen/autocast_mode.h>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <unistd.h>

#include "models/dataset.h"
#include "models/encoder.h"
#include "models/linear_decoder.h"
#include "models/metrics.h"
#include "models/model_file.h"
#include "models/progress.h"
#include "models/ridge_path.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "models/training_internal.h"

namespace spikevid {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

nlohmann::json Scores::to_json() const {
  return {{"mse", mse}, {"psnr", psnr}, {"ssim", ssim}, {"n", n}};
}

Scores evaluate(Encoder& encoder, const std::function<torch::Tensor(const torch::Tensor&)>& decode,
                const torch::Tensor& images, std::uint64_t seed, int batch,
                std::vector<double>* ssim_each) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  Scores s;
  double mse = 0, psnr = 0, ssim = 0;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    auto x = images.narrow(0, i, std::min<int64_t>(batch, images.size(0) - i));
    auto y = decode(encoder.spikes(x).flatten(1)).clamp(0, 1);
    mse += mse_per_image(y, x).sum().item<double>();
    psnr += psnr_per_image(y, x).clamp_max(100).sum().item<double>();
    const auto each = ssim_per_image(y, x).contiguous();
    ssim += each.sum().item<double>();
    if (ssim_each)
      ssim_each->insert(ssim_each->end(), each.data_ptr<double>(),
                        each.data_ptr<double>() + each.numel());
    s.n += x.size(0);
  }
  s.mse = mse / s.n;
  s.psnr = psnr / s.n;
  s.ssim = ssim / s.n;
  return s;
}

namespace detail {

nlohmann::json decoder_meta(const std::string& arch, Encoder& encoder, const Dataset& data,
                            const TrainConfig& c) {
  const auto& e = encoder.info();
  return {{"kind", "decoder"},
          {"architecture", arch},
          {"image_size", kPatchSize},
          {"n_inputs", e.n_cells * e.bins},
          {"encoder",
           {{"id", e.id},
            {"architecture", e.architecture},
            {"path", e.path},
            {"n_cells", e.n_cells},
            {"window_s", e.window_s},
            {"bins", e.bins}}},
          {"data", data.describe()},
          {"training",
           {{"seed", c.seed},
            {"batch", c.batch},
            {"lr", c.lr},
            {"lr_schedule", c.lr_schedule},
            {"images_per_epoch", c.images_per_epoch},
            {"precision", c.precision == torch::kFloat32 ? "float32" : "bfloat16"},
            {"loss", loss_name(c.loss)},
            {"command", c.command}}}};
}

void save_state(const fs::path& dir, const RunState& s) {
  const nlohmann::json j = {{"epoch", s.epoch},
                            {"images_seen", s.images_seen},
                            {"best_val_ssim", s.best_val_ssim},
                            {"seconds", s.seconds},
                            {"schedule_epochs", s.schedule_epochs},
                            {"history", s.history}};
  std::ofstream((dir / "state.json.tmp").string()) << j.dump(1);
  fs::rename(dir / "state.json.tmp", dir / "state.json");
}

RunState load_state(const fs::path& dir) {
  std::ifstream in((dir / "state.json").string());
  const auto j = nlohmann::json::parse(in);
  RunState s;
  s.epoch = j.at("epoch");
  s.images_seen = j.at("images_seen");
  s.best_val_ssim = j.at("best_val_ssim");
  s.seconds = j.at("seconds");
  s.schedule_epochs = j.value("schedule_epochs", 0);
  s.history = j.at("history");
  return s;
}

void set_lr(torch::optim::Adam& opt, double lr) {
  auto& groups = opt.param_groups();
  if (groups.empty()) return;
  const auto options = [](torch::optim::OptimizerParamGroup& g) -> torch::optim::AdamOptions& {
    return static_cast<torch::optim::AdamOptions&>(g.options());
  };
  const double first = options(groups[0]).lr();
  for (auto& g : groups)
    options(g).lr(first > 0 ? lr * options(g).lr() / first : lr);  // ratios kept
}

bool run_epochs(const TrainConfig& c, RunState& st, torch::optim::Adam& opt,
                const std::function<double()>& elapsed, const EpochBatches& batches,
                const std::function<void(bool)>& validate,
                const std::function<void()>& save_checkpoint, const char* unit, std::ostream& log) {
  const double seconds_before = st.seconds;
  auto last_ckpt = Clock::now();
  const auto checkpoint = [&] {
    st.seconds = seconds_before + elapsed();
    save_checkpoint();
    last_ckpt = Clock::now();
  };
  bool stopped = false;
  const bool cosine = c.lr_schedule == "cosine";
  if (cosine && st.schedule_epochs == 0 && c.max_minutes <= 0) st.schedule_epochs = c.epochs;
  const int first_epoch = st.epoch;
  for (int epoch = st.epoch; epoch < c.epochs && !stopped; ++epoch) {
    const int span = st.schedule_epochs > 0 ? st.schedule_epochs : c.epochs;
    if (epoch >= span) break;
    if (cosine) set_lr(opt, cosine_lr(c.lr, c.lr * c.lr_min_fraction, epoch, span));
    std::mt19937_64 rng(c.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    torch::manual_seed(c.seed * 7919 + static_cast<std::uint64_t>(epoch));
    batches(epoch, rng, [&](int64_t items) {
      st.images_seen += items;
      if (std::chrono::duration<double>(Clock::now() - last_ckpt).count() >
          c.checkpoint_minutes * 60)
        checkpoint();
      stopped = (c.max_minutes > 0 && elapsed() > c.max_minutes * 60) ||
                (c.should_stop && c.should_stop());
      return stopped;
    });
    if (!stopped) st.epoch = epoch + 1;
    validate(!stopped);
    // With --minutes, a cosine schedule spans the epochs that fit in the time,
    // fixed from the first epoch's speed and recorded (--epochs E reproduces it).
    if (cosine && st.schedule_epochs == 0 && !stopped && epoch == first_epoch) {
      const double epoch_s = elapsed();
      const int fit = st.epoch + static_cast<int>((c.max_minutes * 60 - epoch_s) / epoch_s);
      st.schedule_epochs = std::clamp(fit, st.epoch, c.epochs);
      log << "train: cosine schedule over " << st.schedule_epochs << " epochs\n";
    }
    checkpoint();
  }
  log << "train: " << (stopped ? "stopped" : "finished") << " after " << st.images_seen << " "
      << unit << " in " << std::fixed << std::setprecision(1) << (seconds_before + elapsed()) / 60
      << " min; best validation SSIM " << std::setprecision(4) << st.best_val_ssim << "\n";
  return stopped;
}

}  // namespace detail

using namespace detail;

namespace {

template <class Net>
Net make_net(int64_t n_inputs, const TrainConfig&) {
  return Net(n_inputs);
}
template <>
SidLite make_net<SidLite>(int64_t n_inputs, const TrainConfig& c) {
  return SidLite(n_inputs, c.width > 0 ? c.width : kSidLiteWidth, !c.ridge_init.empty(),
                 SidLiteRefine{c.refine_channels, c.refine_depth});
}

// --ridge-path's linear decoder and its content hash, read once.
using RidgeSource = std::optional<std::pair<LinearDecoder, std::string>>;

// SID-lite's ridge path set from it: at a fresh start, with the dense stage's
// last layer and `out` at zero (`fresh`); after --init, over the path the file
// brought (the output names --ridge-path's).
template <class Net>
void set_ridge_path(Net&, const RidgeSource&, bool) {}
template <>
void set_ridge_path<SidLite>(SidLite& net, const RidgeSource& ridge, bool fresh) {
  if (!ridge) return;
  if (fresh)
    net->start_from_ridge(*ridge->first);
  else
    net->set_ridge(*ridge->first);
}

// A model file's weights into the network (SID-lite: its ridge path too,
// wherever it is stored).
template <class Net>
void load_state(Net& net, const ModelFile& file, const std::string& path) {
  load_module_state(*net, file, path);
}
template <>
void load_state<SidLite>(SidLite& net, const ModelFile& file, const std::string& path) {
  load_sid_lite_state(*net, file, path);
}

// --init's weights into the network. SID-lite from a file whose residual
// network has another size: its dense stage, ridge path and input scaling, and
// the residual network as made (fresh), its last layer at zero so that
// training starts at the file's dense images.
template <class Net>
void load_init(Net& net, const ModelFile& file, const std::string& path, std::ostream&) {
  load_state(net, file, path);
}
template <>
void load_init<SidLite>(SidLite& net, const ModelFile& file, const std::string& path,
                        std::ostream& log) {
  const auto from = sid_lite_refine_from_meta(file.meta, path);
  if (from == net->refine_size) {
    load_state(net, file, path);
    return;
  }
  SidLite base(net->n_inputs, file.meta.value("width", kSidLiteWidth), !net->ridge.is_empty(),
               from);
  load_state(base, file, path);
  const auto& refine_parts = sid_lite_refine_parts();
  torch::NoGradGuard no_grad;
  auto to = net->named_parameters(true);
  for (const auto& p : base->named_parameters(true))
    if (!has_prefix(p.key(), refine_parts)) to[p.key()].copy_(p.value());
  auto to_buffers = net->named_buffers(true);
  for (const auto& b : base->named_buffers(true))
    if (!has_prefix(b.key(), refine_parts)) to_buffers[b.key()].copy_(b.value());
  net->out->weight.zero_();
  net->out->bias.zero_();
  log << "train: the dense stage and ridge path from " << path << " (its residual network has "
      << from.channels << " channels, depth " << from.depth << "); the residual network of "
      << net->refine_size.channels << " channels, depth " << net->refine_size.depth
      << " starts fresh\n";
}

// SID or SID-lite, trained by Adam on the MSE.
template <class Net>
nlohmann::json train_network(Encoder& encoder, const Dataset& data, const TrainConfig& c,
                             const std::string& out_path, std::ostream& log) {
  const auto device = data.val().device();
  const int64_t n_inputs = encoder.info().n_cells * encoder.info().bins;
  torch::manual_seed(c.seed);
  Net net = make_net<Net>(n_inputs, c);
  RidgeSource ridge;
  if (!c.ridge_init.empty()) ridge = read_ridge_decoder(c.ridge_init, n_inputs, encoder.info().id);
  net->to(device);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(c.lr));
  RunState st;
  nlohmann::json started_from;  // the weights a fine-tuning run began with
  const fs::path ckpt = c.checkpoint_dir;
  const bool resuming = !c.checkpoint_dir.empty() && fs::exists(ckpt / "state.json");
  if (resuming) {
    load_state(net, read_model_file((ckpt / "last.svm").string()), (ckpt / "last.svm").string());
    torch::load(opt, (ckpt / "optimizer.pt").string(), device);
    st = detail::load_state(ckpt);
    log << "train: resuming from " << ckpt.string() << " after epoch " << st.epoch << " ("
        << st.images_seen << " images seen, best validation SSIM " << st.best_val_ssim << ")\n";
  } else if (!c.init_weights.empty()) {
    const auto f = read_model_file(c.init_weights);
    load_init(net, f, c.init_weights, log);
    set_ridge_path(net, ridge, /*fresh=*/false);
    started_from = {{"path", c.init_weights},
                    {"content_hash", f.content_hash},
                    {"training", f.meta.value("training", nlohmann::json::object())}};
    started_from["training"].erase("history");
    log << "train: starting from " << c.init_weights << "\n";
  } else {
    std::mt19937_64 rng(c.seed);
    torch::NoGradGuard no_grad;
    // The reference min-max scales the inputs on the training spikes.
    const int64_t n = std::min<int64_t>(4096, c.images_per_epoch);
    net->fit_input_scaling(encoder.spikes(data.train_epoch(n, rng)).flatten(1));
    set_ridge_path(net, ridge, /*fresh=*/true);
    if (ridge) {
      started_from = {{"path", c.ridge_init}, {"content_hash", ridge->second}};
      log << "train: the ridge path starts from " << c.ridge_init << "\n";
    }
  }
  if (!c.checkpoint_dir.empty()) fs::create_directories(ckpt);

  auto meta = decoder_meta(c.architecture, encoder, data, c);
  if (!started_from.is_null()) meta["training"]["started_from"] = started_from;
  if (c.architecture == "sid-lite") {
    meta["width"] = c.width > 0 ? c.width : kSidLiteWidth;
    meta["refine"] = sid_lite_refine_meta(SidLiteRefine{c.refine_channels, c.refine_depth});
  }
  // The ridge path by reference (models/ridge_path.h): the decoder file names
  // the linear decoder instead of holding a copy; checkpoints hold it.
  std::vector<std::string> leave_out;
  if (ridge) {
    meta["ridge_path"] = ridge_reference(out_path, c.ridge_init, ridge->second);
    leave_out = ridge_tensors();
  }
  const auto t_start = Clock::now();
  const double seconds_before = st.seconds;
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t_start).count(); };
  const auto save_checkpoint = [&] {
    if (c.checkpoint_dir.empty()) return;
    write_model_file((ckpt / "last.svm").string(), meta, *net, false);
    torch::save(opt, (ckpt / "optimizer.pt").string());
    save_state(ckpt, st);
  };

  auto validate_and_keep_best = [&](bool finished_epoch) {
    net->eval();
    auto s = evaluate(
        encoder, [&](const torch::Tensor& x) { return net->forward(x); }, data.val(), c.seed + 99);
    net->train();
    st.history.push_back({{"epoch", st.epoch},
                          {"images_seen", st.images_seen},
                          {"seconds", seconds_before + elapsed()},
                          {"val", s.to_json()}});
    log << "train: epoch " << st.epoch << (finished_epoch ? "" : " (partial)")
        << ": validation SSIM " << std::fixed << std::setprecision(4) << s.ssim << ", PSNR "
        << std::setprecision(2) << s.psnr << " dB, MSE " << std::setprecision(5) << s.mse << "\n";
    if (s.ssim > st.best_val_ssim) {
      st.best_val_ssim = s.ssim;
      auto m = meta;
      m["training"]["epochs"] = st.epoch;
      if (c.lr_schedule == "cosine") m["training"]["schedule_epochs"] = st.schedule_epochs;
      m["training"]["images_seen"] = st.images_seen;
      m["training"]["seconds"] = seconds_before + elapsed();
      m["training"]["device"] = device.str();
      m["training"]["history"] = st.history;
      m["scores"] = {{"val", s.to_json()}};
      write_model_file(out_path, m, *net, true, leave_out);
      log << "train: wrote " << out_path << " (best so far)\n";
    }
  };

  net->train();
  run_epochs(
      c, st, opt, elapsed,
      [&](int epoch, std::mt19937_64& rng, const std::function<bool(int64_t)>& after_batch) {
        auto images = data.train_epoch(c.images_per_epoch, rng);
        const int64_t n = images.size(0);
        Progress bar(log, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs), n);
        double loss_avg = 0;
        for (int64_t i = 0; i + c.batch <= n; i += c.batch) {
          const double l =
              train_step([&](const torch::Tensor& counts) { return net->forward(counts); }, opt,
                         encoder, images.narrow(0, i, c.batch), c.precision, c.loss);
          loss_avg = i == 0 ? l : 0.98 * loss_avg + 0.02 * l;
          bar.update(i + c.batch, "loss " + std::to_string(loss_avg).substr(0, 7));
          if (after_batch(c.batch)) break;
        }
        bar.finish();
      },
      validate_and_keep_best, save_checkpoint, "images", log);
  return read_model_file(out_path).meta;
}

}  // namespace

const char* loss_name(Loss loss) { return loss == Loss::ssim_l1 ? "ssim-l1" : "mse"; }

torch::Tensor training_loss(const torch::Tensor& y, const torch::Tensor& x, Loss loss) {
  if (loss == Loss::ssim_l1)
    return 0.84 * (1 - ssim_differentiable(y, x).mean()) + 0.16 * torch::l1_loss(y, x);
  return torch::mse_loss(y, x);
}

double train_step(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                  torch::optim::Optimizer& optimizer, Encoder& encoder, const torch::Tensor& x,
                  torch::ScalarType precision, Loss loss_kind) {
  torch::Tensor counts;
  {
    torch::NoGradGuard no_grad;
    counts = encoder.spikes(x).flatten(1);
  }
  optimizer.zero_grad();
  torch::Tensor y;
  {
    AutocastScope autocast(x.device(), precision);
    y = forward(counts);
  }
  auto loss = training_loss(y.to(torch::kFloat32), x, loss_kind);  // outside autocast: float32
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

double cosine_lr(double lr, double lr_min, int epoch, int epochs) {
  if (epochs <= 1) return lr;
  const double t = std::min(1.0, static_cast<double>(epoch) / (epochs - 1));
  return lr_min + (lr - lr_min) * 0.5 * (1 + std::cos(M_PI * t));
}

nlohmann::json train_sid(Encoder& encoder, const Dataset& data, const TrainConfig& c,
                         const std::string& out_path, std::ostream& log) {
  if (c.architecture == "sid") return train_network<Sid>(encoder, data, c, out_path, log);
  if (c.architecture == "sid-lite") {
    // The residual network's size: as asked, else the run's being resumed,
    // else --init's, else the default.
    TrainConfig lite = c;
    if (lite.refine_channels <= 0 || lite.refine_depth <= 0) {
      SidLiteRefine r;
      const auto last = fs::path(c.checkpoint_dir) / "last.svm";
      if (!c.checkpoint_dir.empty() && fs::exists(fs::path(c.checkpoint_dir) / "state.json"))
        r = sid_lite_refine_from_meta(read_model_file(last.string()).meta, last.string());
      else if (!c.init_weights.empty())
        r = sid_lite_refine_from_meta(read_model_file(c.init_weights).meta, c.init_weights);
      if (lite.refine_channels <= 0) lite.refine_channels = r.channels;
      if (lite.refine_depth <= 0) lite.refine_depth = r.depth;
    }
    return train_network<SidLite>(encoder, data, lite, out_path, log);
  }
  throw std::runtime_error("train: unknown decoder architecture '" + c.architecture + "'");
}

nlohmann::json train_linear(Encoder& encoder, const Dataset& data, const TrainConfig& c,
                            const std::string& out_path, std::ostream& log) {
  const int64_t n_inputs = encoder.info().n_cells * encoder.info().bins;
  RidgeAccumulator acc(n_inputs, kPatchSize * kPatchSize);
  torch::NoGradGuard no_grad;
  for (int epoch = 0; epoch < c.epochs; ++epoch) {
    std::mt19937_64 rng(c.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    torch::manual_seed(c.seed * 7919 + static_cast<std::uint64_t>(epoch));
    auto images = data.train_epoch(c.images_per_epoch, rng);
    Progress bar(log, "ridge pass " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs),
                 images.size(0));
    for (int64_t i = 0; i < images.size(0); i += 512) {
      auto x = images.narrow(0, i, std::min<int64_t>(512, images.size(0) - i));
      acc.add(encoder.spikes(x).flatten(1), x);
      bar.update(i + x.size(0), "");
    }
    bar.finish();
  }
  torch::manual_seed(c.seed + 99);
  auto val_counts = encoder.spikes(data.val()).flatten(1);
  LinearDecoder net(n_inputs, kPatchSize);
  const std::vector<double> lambdas = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10};
  const auto mses = acc.solve(*net, lambdas, val_counts, data.val());
  net->eval();
  auto s = evaluate(
      encoder, [&](const torch::Tensor& x) { return net->forward(x.to(torch::kCPU)); }, data.val(),
      c.seed + 99);
  auto meta = decoder_meta("linear", encoder, data, c);
  meta["training"]["epochs"] = c.epochs;
  meta["training"]["images_seen"] = acc.samples();
  meta["training"]["lambdas_relative"] = lambdas;
  meta["training"]["val_mse_per_lambda"] = mses;
  meta["training"]["lambda"] = net->lambda.item<double>();
  meta["scores"] = {{"val", s.to_json()}};
  write_model_file(out_path, meta, *net, true);
  log << "train: linear decoder, penalty " << net->lambda.item<double>() << ", validation SSIM "
      << s.ssim << ", PSNR " << s.psnr << " dB; wrote " << out_path << "\n";
  return meta;
}

}  // namespace spikevid
