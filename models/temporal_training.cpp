// Training the temporal decoders on sequences (models/training.h): SID-lite-GRU
// by Adam through every frame of each sequence, the multi-window ridge decoder
// in closed form; and their scores over sequences.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "models/dataset.h"
#include "models/encoder.h"
#include "models/linear_decoder.h"
#include "models/metrics.h"
#include "models/model_file.h"
#include "models/progress.h"
#include "models/ridge_path.h"
#include "models/sid_lite.h"
#include "models/sid_lite_gru.h"
#include "models/training.h"
#include "models/training_internal.h"

namespace spikevid {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace detail;

Scores evaluate_sequences(Encoder& encoder,
                          const std::function<torch::Tensor(const torch::Tensor&)>& step,
                          const std::function<void()>& reset, const torch::Tensor& sequences,
                          std::uint64_t seed, int batch) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  Scores s;
  const int64_t L = sequences.size(1);
  for (int64_t i = 0; i < sequences.size(0); i += batch) {
    auto x = sequences.narrow(0, i, std::min<int64_t>(batch, sequences.size(0) - i));
    reset();
    for (int64_t t = 0; t < L; ++t) {
      auto xt = x.select(1, t).contiguous();
      auto y = step(encoder.spikes(xt).flatten(1)).to(torch::kFloat32).clamp(0, 1);
      s.mse += mse_per_image(y, xt).sum().item<double>();
      s.psnr += psnr_per_image(y, xt).clamp_max(100).sum().item<double>();
      s.ssim += ssim_per_image(y, xt).sum().item<double>();
      s.n += xt.size(0);
    }
  }
  if (s.n > 0) {
    s.mse /= static_cast<double>(s.n);
    s.psnr /= static_cast<double>(s.n);
    s.ssim /= static_cast<double>(s.n);
  }
  return s;
}

// SID-lite-GRU on sequences: the SID-lite it starts from kept as it is (its
// dense stage computed once a frame, without gradients), the GRU trained by
// Adam through every frame of each sequence and through the residual network.
// By default only the GRU learns (about 19,000 weights): it cannot learn the few
// training clips by heart, and the frame-by-frame decoder inside stays what it
// was. With train_refine the residual network learns too (at a tenth of the
// rate), to sharpen the steadier image the GRU gives it.
nlohmann::json train_temporal(Encoder& encoder, const Dataset& data, const TrainConfig& c,
                              const std::string& out_path, std::ostream& log) {
  const auto device = data.val().device();
  const int64_t n_inputs = encoder.info().n_cells * encoder.info().bins;
  const int64_t L = c.sequence_frames;
  if (L < 2 || L > 64) throw std::invalid_argument("train: --sequence-frames must be 2 to 64");
  if (data.val_sequences().numel() == 0)
    throw std::runtime_error(
        "train: sid-lite-gru needs a pack with a view mix for its validation sequences "
        "(pack-data scenes)");
  if (c.init_weights.empty())
    throw std::invalid_argument(
        "train: sid-lite-gru starts from a SID-lite or SID-lite-GRU file: give --init");
  torch::manual_seed(c.seed);
  const auto init = read_model_file(c.init_weights);
  const auto init_arch = init.meta.value("architecture", std::string());
  if (init_arch != "sid-lite" && init_arch != "sid-lite-gru")
    throw std::runtime_error(c.init_weights + ": is a " + init_arch +
                             " decoder; sid-lite-gru starts from sid-lite or sid-lite-gru");
  const int64_t width = init.meta.value("width", kSidLiteWidth);
  const bool ridge = has_ridge_path(init.meta);
  const auto refine = sid_lite_refine_from_meta(init.meta, c.init_weights);
  const int64_t hidden = init_arch == "sid-lite-gru"
                             ? init.meta.at("temporal").value("hidden", kSidLiteGruHidden)
                             : (c.hidden > 0 ? c.hidden : kSidLiteGruHidden);
  SidLiteGru net(n_inputs, width, ridge, hidden, refine);
  if (init_arch == "sid-lite-gru") {
    load_sid_lite_state(*net, init, c.init_weights);
  } else {
    SidLite base(n_inputs, width, ridge, refine);
    load_sid_lite_state(*base, init, c.init_weights);
    torch::NoGradGuard no_grad;
    auto to = net->named_parameters(true);
    for (const auto& p : base->named_parameters(true)) to[p.key()].copy_(p.value());
    auto to_buffers = net->named_buffers(true);
    for (const auto& b : base->named_buffers(true)) to_buffers[b.key()].copy_(b.value());
  }
  net->to(device);
  net->eval();
  // The GRU learns; with train_refine the residual network after it too, at a
  // tenth of the rate (it starts trained); the dense stage never.
  std::vector<torch::Tensor> trained, refined;
  const auto& refine_parts = sid_lite_refine_parts();
  for (const auto& p : net->named_parameters(true)) {
    if (has_prefix(p.key(), {"gru_"}))
      trained.push_back(p.value());
    else if (c.train_refine && has_prefix(p.key(), refine_parts))
      refined.push_back(p.value());
    else
      p.value().requires_grad_(false);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(trained, std::make_unique<torch::optim::AdamOptions>(c.lr));
  if (!refined.empty())
    groups.emplace_back(refined,
                        std::make_unique<torch::optim::AdamOptions>(c.lr * c.refine_lr_ratio));
  torch::optim::Adam opt(std::move(groups), torch::optim::AdamOptions(c.lr));
  RunState st;
  const fs::path ckpt = c.checkpoint_dir;
  if (!c.checkpoint_dir.empty() && fs::exists(ckpt / "state.json")) {
    load_sid_lite_state(*net, read_model_file((ckpt / "last.svm").string()),
                        (ckpt / "last.svm").string());
    torch::load(opt, (ckpt / "optimizer.pt").string(), device);
    st = load_state(ckpt);
    log << "train: resuming from " << ckpt.string() << " after epoch " << st.epoch << " ("
        << st.images_seen << " frames seen, best validation SSIM " << st.best_val_ssim << ")\n";
  } else {
    log << "train: starting from " << c.init_weights << "\n";
  }
  if (!c.checkpoint_dir.empty()) fs::create_directories(ckpt);

  auto meta = decoder_meta("sid-lite-gru", encoder, data, c);
  meta["width"] = width;
  meta["refine"] = sid_lite_refine_meta(refine);
  meta["temporal"] = {{"state", "convgru"},
                      {"hidden", hidden},
                      {"state_size", 32},
                      {"sequence_frames", L},
                      {"backprop_frames", L}};
  nlohmann::json started_from = {
      {"path", c.init_weights}, {"content_hash", init.content_hash}, {"architecture", init_arch}};
  meta["training"]["started_from"] = started_from;
  meta["training"]["sequence_frames"] = L;
  meta["training"]["trained"] = c.train_refine ? "gru and residual network" : "gru";
  if (c.train_refine) meta["training"]["refine_lr_ratio"] = c.refine_lr_ratio;
  std::vector<std::string> leave_out;
  if (const auto ref = init.meta.find("ridge_path"); ref != init.meta.end() && ref->is_object()) {
    const auto linear = (fs::path(shipped_model_path(c.init_weights)).parent_path() /
                         ref->at("file").get<std::string>())
                            .string();
    meta["ridge_path"] =
        ridge_reference(out_path, linear, ref->at("content_hash").get<std::string>());
    leave_out = ridge_tensors();
  } else if (ridge) {
    meta["ridge_path"] = true;
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

  torch::Tensor state;
  const auto step = [&](const torch::Tensor& counts) { return net->step(counts, state); };
  const auto reset = [&] { state = torch::Tensor(); };
  if (st.history.empty()) {
    // The baseline: the SID-lite inside, frame by frame (a fresh state each frame).
    auto frame = evaluate_sequences(
        encoder, [&](const torch::Tensor& x) { return net->forward(x); }, [] {},
        data.val_sequences(), c.seed + 99);
    log << "train: validation SSIM frame by frame " << std::fixed << std::setprecision(4)
        << frame.ssim << "\n";
    meta["training"]["val_frame_by_frame"] = frame.to_json();
  }
  auto validate_and_keep_best = [&](bool finished_epoch) {
    auto s = evaluate_sequences(encoder, step, reset, data.val_sequences(), c.seed + 99);
    st.history.push_back({{"epoch", st.epoch},
                          {"frames_seen", st.images_seen},
                          {"seconds", seconds_before + elapsed()},
                          {"val", s.to_json()}});
    log << "train: epoch " << st.epoch << (finished_epoch ? "" : " (partial)")
        << ": validation SSIM " << std::fixed << std::setprecision(4) << s.ssim << ", PSNR "
        << std::setprecision(2) << s.psnr << " dB\n";
    if (s.ssim > st.best_val_ssim) {
      st.best_val_ssim = s.ssim;
      auto m = meta;
      m["training"]["epochs"] = st.epoch;
      if (c.lr_schedule == "cosine") m["training"]["schedule_epochs"] = st.schedule_epochs;
      m["training"]["frames_seen"] = st.images_seen;
      m["training"]["seconds"] = seconds_before + elapsed();
      m["training"]["device"] = device.str();
      m["training"]["history"] = st.history;
      m["scores"] = {{"val_sequences", s.to_json()}};
      write_model_file(out_path, m, *net, true, leave_out);
      log << "train: wrote " << out_path << " (best so far)\n";
    }
  };

  run_epochs(
      c, st, opt, elapsed,
      [&](int epoch, std::mt19937_64& rng, const std::function<bool(int64_t)>& after_batch) {
        const int64_t n_seq = std::max<int64_t>(c.batch, c.images_per_epoch / L);
        Progress bar(log, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs),
                     n_seq * L);
        double loss_avg = 0;
        for (int64_t i = 0; i + c.batch <= n_seq; i += c.batch) {
          // Drawn batch by batch: a whole epoch of sequences would not fit in memory.
          auto x = data.train_sequences(c.batch, L, rng);  // [B,L,1,64,64]
          const int64_t B = x.size(0);
          torch::Tensor d;
          {
            torch::NoGradGuard no_grad;
            auto counts = encoder.spikes(x.view({B * L, 1, kPatchSize, kPatchSize})).flatten(1);
            AutocastScope autocast(device, c.precision);
            d = net->dense_image(counts)
                    .to(torch::kFloat32)
                    .view({B, L, 1, kPatchSize, kPatchSize});
          }
          opt.zero_grad();
          std::vector<torch::Tensor> ys;
          {
            AutocastScope autocast(device, c.precision);
            torch::Tensor h;
            for (int64_t t = 0; t < L; ++t) ys.push_back(net->step_dense(d.select(1, t), h));
          }
          auto y = torch::stack(ys, 1).to(torch::kFloat32).view({B * L, 1, kPatchSize, kPatchSize});
          auto loss = training_loss(y, x.view({B * L, 1, kPatchSize, kPatchSize}), c.loss);
          loss.backward();
          opt.step();
          const double l = loss.item<double>();
          loss_avg = i == 0 ? l : 0.98 * loss_avg + 0.02 * l;
          bar.update((i + B) * L, "loss " + std::to_string(loss_avg).substr(0, 7));
          if (after_batch(B * L)) break;
        }
        bar.finish();
      },
      validate_and_keep_best, save_checkpoint, "frames", log);
  return read_model_file(out_path).meta;
}

nlohmann::json train_linear_multi(Encoder& encoder, const Dataset& data, const TrainConfig& c,
                                  const std::string& out_path, std::ostream& log) {
  const int64_t n = encoder.info().n_cells * encoder.info().bins, K = c.windows;
  if (K < 2 || K > 16) throw std::invalid_argument("train: --windows must be 2 to 16");
  if (data.val_sequences().numel() == 0 || data.val_sequences().size(1) < K)
    throw std::runtime_error(
        "train: linear-multi needs a pack with a view mix for its validation sequences "
        "(pack-data scenes)");
  RidgeAccumulator acc(K * n, kPatchSize * kPatchSize);
  torch::NoGradGuard no_grad;
  // The counts of K consecutive frames of each sequence, oldest first: [B,K·n].
  const auto stacked_counts = [&](const torch::Tensor& seq) {
    const int64_t b = seq.size(0), l = seq.size(1);
    return encoder.spikes(seq.reshape({b * l, 1, kPatchSize, kPatchSize})).reshape({b, l * n});
  };
  for (int epoch = 0; epoch < c.epochs; ++epoch) {
    std::mt19937_64 rng(c.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    torch::manual_seed(c.seed * 7919 + static_cast<std::uint64_t>(epoch));
    const int64_t n_seq = std::max<int64_t>(1, c.images_per_epoch / K);
    Progress bar(log, "ridge pass " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs),
                 n_seq);
    for (int64_t i = 0; i < n_seq; i += 256) {
      const auto seq = data.train_sequences(std::min<int64_t>(256, n_seq - i), K, rng);
      acc.add(stacked_counts(seq), seq.select(1, K - 1));
      bar.update(i + seq.size(0), "");
    }
    bar.finish();
  }
  // Validation pairs: every run of K frames of the validation sequences.
  torch::manual_seed(c.seed + 99);
  const auto& vs = data.val_sequences();
  std::vector<torch::Tensor> vc, vi;
  for (int64_t t = K - 1; t < vs.size(1); t += K) {
    const auto seq = vs.narrow(1, t - K + 1, K);
    vc.push_back(stacked_counts(seq));
    vi.push_back(seq.select(1, K - 1));
  }
  LinearDecoder net(K * n, kPatchSize);
  const std::vector<double> lambdas = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10};
  const auto mses = acc.solve(*net, lambdas, torch::cat(vc), torch::cat(vi));
  net->eval();
  // Scored as it decodes: frame by frame through the sequences, the first frames from a state
  // that takes the scene as still.
  torch::Tensor state;
  const auto step = [&](const torch::Tensor& counts) {
    auto x = counts.to(torch::kCPU);
    if (!state.defined()) state = x.repeat({1, K - 1});
    auto all = torch::cat({state, x}, 1);
    state = all.narrow(1, n, (K - 1) * n);
    return net->forward(all);
  };
  auto s = evaluate_sequences(
      encoder, step, [&] { state = torch::Tensor(); }, vs, c.seed + 99);
  auto meta = decoder_meta("linear-multi", encoder, data, c);
  meta["temporal"] = {{"state", "windows"}, {"windows", K}};
  meta["training"]["epochs"] = c.epochs;
  meta["training"]["sequences_seen"] = acc.samples();
  meta["training"]["lambdas_relative"] = lambdas;
  meta["training"]["val_mse_per_lambda"] = mses;
  meta["training"]["lambda"] = net->lambda.item<double>();
  meta["scores"] = {{"val_sequences", s.to_json()}};
  write_model_file(out_path, meta, *net, true);
  log << "train: linear decoder of " << K << " windows, penalty " << net->lambda.item<double>()
      << ", validation SSIM over the sequences " << s.ssim << ", PSNR " << s.psnr << " dB; wrote "
      << out_path << "\n";
  return meta;
}

}  // namespace spikevid
