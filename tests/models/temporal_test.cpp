// SID-lite-GRU (models/sid_lite_gru.h): it starts as the SID-lite it comes
// from, its state carries earlier frames, it trains on sequences, resumes and
// loads as a temporal decoder.
#include <filesystem>
#include <map>
#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/model_file.h"
#include "models/sid_lite.h"
#include "models/sid_lite_gru.h"
#include "models/training.h"
#include "models/training_internal.h"
#include "tests/models/test_data.h"

using namespace spikevid;
namespace fs = std::filesystem;
using spikevid::testing::TempDir;

namespace {

// The GRU model with `base`'s weights (gru_out left at zero).
SidLiteGru from_base(SidLite& base, int64_t n, int64_t width, int64_t hidden) {
  SidLiteGru g(n, width, false, hidden);
  torch::NoGradGuard no_grad;
  auto params = g->named_parameters(true);
  for (const auto& p : base->named_parameters(true)) params[p.key()].copy_(p.value());
  auto buffers = g->named_buffers(true);
  for (const auto& b : base->named_buffers(true)) buffers[b.key()].copy_(b.value());
  return g;
}

}  // namespace

TEST_CASE("sid-lite-gru: starts as its SID-lite; the state carries earlier frames", "[temporal]") {
  torch::manual_seed(3);
  SidLite base(32, 16, false);
  spikevid::testing::perturb(*base);
  base->eval();
  auto g = from_base(base, 32, 16, 8);
  g->eval();
  torch::NoGradGuard no_grad;
  const auto a = torch::poisson(torch::full({3, 32}, 2.0));
  const auto b = torch::poisson(torch::full({3, 32}, 5.0));
  torch::Tensor state;
  auto y = g->step(a, state);
  CHECK(torch::allclose(y, base->forward(a), 1e-5, 1e-6));
  CHECK(state.sizes() == torch::IntArrayRef({3, 8, 32, 32}));
  CHECK(state.abs().max().item<float>() > 0);
  // With its correction on, the same window after another frame decodes differently.
  spikevid::testing::perturb(*g->gru_out);
  torch::Tensor fresh, carried;
  (void)g->step(b, carried);
  const auto alone = g->step(a, fresh);
  const auto after_b = g->step(a, carried);
  CHECK((alone - after_b).abs().max().item<float>() > 1e-4);
  CHECK(torch::allclose(g->forward(a), alone));  // forward: one window, a fresh state
  CHECK(sid_lite_gru_flops_per_frame(2048, 512, true) <
        2 * sid_lite_flops_per_frame(2048, 512, true));
}

TEST_CASE("sid-lite-gru: rows reset at a scene cut start afresh, the others go on", "[temporal]") {
  torch::manual_seed(4);
  SidLite base(32, 16, false);
  spikevid::testing::perturb(*base);
  auto g = from_base(base, 32, 16, 8);
  spikevid::testing::perturb(*g->gru_out);
  g->eval();
  torch::NoGradGuard no_grad;
  const auto a = torch::poisson(torch::full({3, 32}, 2.0));
  const auto b = torch::poisson(torch::full({3, 32}, 5.0));
  torch::Tensor carried, reset_state, fresh;
  (void)g->step(a, carried);
  reset_state = carried.clone();
  const auto go_on = g->step(b, carried);
  const auto alone = g->step(b, fresh);
  const auto reset = torch::tensor({true, false, true});
  const auto y = g->step_dense(g->dense_image(b), reset_state, reset);
  // Rows 0 and 2 as from a fresh state, row 1 as carried on: outputs and states.
  for (int64_t row : {0, 2}) {
    CHECK(torch::allclose(y[row], alone[row], 1e-5, 1e-6));
    CHECK(torch::allclose(reset_state[row], fresh[row], 1e-5, 1e-6));
  }
  CHECK(torch::allclose(y[1], go_on[1], 1e-5, 1e-6));
  CHECK(torch::allclose(reset_state[1], carried[1], 1e-5, 1e-6));
  CHECK((go_on[0] - alone[0]).abs().max().item<float>() > 1e-4);  // so the reset mattered
}

TEST_CASE("dataset: training sequences move, stay in range, and repeat with the seed",
          "[temporal][dataset]") {
  TempDir dir("sequences");
  const auto d = Dataset::load(spikevid::testing::write_photo_pack(dir, true), DatasetOptions{});
  std::mt19937_64 r1(4), r2(4);
  const auto s = d.train_sequences(12, 5, r1);
  CHECK(s.sizes() == torch::IntArrayRef({12, 5, 1, 64, 64}));
  CHECK(torch::equal(s, d.train_sequences(12, 5, r2)));
  CHECK(s.min().item<float>() >= 0);
  CHECK(s.max().item<float>() <= 1);
  // Frames follow each other: a sequence changes less from frame to frame than between sequences.
  const auto within = (s.narrow(1, 1, 4) - s.narrow(1, 0, 4)).abs().mean().item<double>();
  const auto between = (s.narrow(0, 1, 11) - s.narrow(0, 0, 11)).abs().mean().item<double>();
  CHECK(within < between);
  // Validation: each validation photo held still and panned (the test clips are too short).
  CHECK(d.val_sequences().sizes() == torch::IntArrayRef({4, kValSequenceFrames, 1, 64, 64}));
  CHECK_THROWS_WITH(Dataset::load(spikevid::testing::write_photo_pack(dir), DatasetOptions{})
                        .train_sequences(1, 0, r1),
                    Catch::Contains("at least 1"));
}

TEST_CASE("train_temporal: trains from a SID-lite, writes, resumes and loads as temporal",
          "[temporal][training]") {
  TempDir dir("train-gru");
  DatasetOptions o;
  o.val_count = 8;
  o.test_count = 8;
  const auto data = Dataset::load(spikevid::testing::write_photo_pack(dir, true), o);
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  std::ostringstream log;
  TrainConfig lite;
  lite.architecture = "sid-lite";
  lite.epochs = 1;
  lite.batch = 8;
  lite.images_per_epoch = 16;
  lite.width = 16;
  train_sid(*enc, data, lite, dir / "lite.svm", log);

  TrainConfig c;
  c.architecture = "sid-lite-gru";
  c.epochs = 1;
  c.batch = 2;
  c.sequence_frames = 3;
  c.hidden = 6;
  c.images_per_epoch = 12;
  c.checkpoint_dir = dir / "ckpt";
  CHECK_THROWS_WITH(train_temporal(*enc, data, c, dir / "gru.svm", log),
                    Catch::Contains("give --init"));
  c.init_weights = dir / "lite.svm";
  auto meta = train_temporal(*enc, data, c, dir / "gru.svm", log);
  CHECK(meta["architecture"] == "sid-lite-gru");
  CHECK(meta["temporal"]["hidden"] == 6);
  CHECK(meta["temporal"]["sequence_frames"] == 3);
  CHECK(meta["training"]["started_from"]["architecture"] == "sid-lite");
  CHECK(meta["training"]["val_frame_by_frame"]["n"].get<int64_t>() > 0);
  CHECK(log.str().find("validation SSIM frame by frame") != std::string::npos);
  // The SID-lite inside stayed as it was: only the GRU learned.
  const auto lite_file = read_model_file(dir / "lite.svm");
  const auto gru_file = read_model_file(dir / "gru.svm");
  std::map<std::string, torch::Tensor> gru_tensors(gru_file.tensors.begin(),
                                                   gru_file.tensors.end());
  int kept = 0;
  for (const auto& [name, t] : lite_file.tensors)
    if (name.rfind("gru_", 0) != 0) {
      ++kept;
      CHECK(torch::allclose(t.to(torch::kFloat32), gru_tensors.at(name).to(torch::kFloat32), 1e-3,
                            1e-3));
    }
  CHECK(kept == static_cast<int>(lite_file.tensors.size()));
  CHECK(gru_tensors.size() > lite_file.tensors.size());
  // The same command again goes on from the checkpoint.
  c.epochs = 2;
  std::ostringstream again;
  train_temporal(*enc, data, c, dir / "gru.svm", again);
  CHECK(again.str().find("resuming from") != std::string::npos);

  auto dec = load_decoder(dir / "gru.svm", enc->info(), torch::kCPU);
  CHECK(dec->temporal());
  CHECK_FALSE(load_decoder(dir / "lite.svm", enc->info(), torch::kCPU)->temporal());
  const auto counts = enc->spikes(data.val().narrow(0, 0, 4)).flatten(1);
  torch::Tensor state;
  const auto y = dec->decode_step(counts, state);
  CHECK(y.sizes() == torch::IntArrayRef({4, 1, 64, 64}));
  CHECK(y.min().item<float>() >= 0);
  CHECK(y.max().item<float>() <= 1);
  CHECK(state.sizes() == torch::IntArrayRef({4, 6, 32, 32}));
  CHECK(torch::allclose(dec->decode(counts), y));  // decode: a fresh state, as the first step
  CHECK_THROWS_WITH(dec->save_torchscript(dir / "gru.pt"), Catch::Contains("no TorchScript"));

  // The output filter from the model file: the first frame as without it, then
  // a state with the filtered image beside the GRU's, and steadier images on a
  // still scene; settings out of range refused at load, with one line.
  {
    auto filtered_meta = read_model_file(dir / "gru.svm").meta;
    filtered_meta["temporal"]["output_filter"] = OutputFilter{0.25, 0.03, 0.12}.to_json();
    fs::copy_file(dir / "gru.svm", dir / "gru-f.svm");
    rewrite_model_meta(dir / "gru-f.svm", filtered_meta);
    auto f = load_decoder(dir / "gru-f.svm", enc->info(), torch::kCPU);
    auto plain = load_decoder(dir / "gru.svm", enc->info(), torch::kCPU);
    torch::Tensor fs_state, ps_state;
    torch::manual_seed(11);
    std::vector<torch::Tensor> windows;
    for (int t = 0; t < 6; ++t) windows.push_back(enc->spikes(data.val().narrow(0, 0, 4)).flatten(1));
    double flicker_f = 0, flicker_p = 0;
    torch::Tensor last_f, last_p;
    for (int t = 0; t < 6; ++t) {
      const auto yf = f->decode_step(windows[t], fs_state);
      const auto yp = plain->decode_step(windows[t], ps_state);
      if (t == 0) CHECK(torch::allclose(yf, yp));
      if (t > 0) {
        flicker_f += (yf - last_f).abs().mean().item<double>();
        flicker_p += (yp - last_p).abs().mean().item<double>();
      }
      last_f = yf;
      last_p = yp;
    }
    CHECK(fs_state.sizes() == torch::IntArrayRef({4, 6 + 4, 32, 32}));
    CHECK(fs_state.scalar_type() == torch::kFloat32);
    CHECK(flicker_f < flicker_p);
    // With a scene-cut threshold: far above any change, the same images as
    // without one; far below, every frame starts afresh (each image is its
    // window's alone, as decode gives it).
    for (const double cut : {0.999, 1e-9}) {
      auto fc = load_decoder(dir / "gru-f.svm", enc->info(), torch::kCPU);
      auto base = load_decoder(dir / "gru-f.svm", enc->info(), torch::kCPU);
      auto setting = fc->output_filter();
      setting.cut = cut;
      fc->set_output_filter(setting);
      torch::Tensor cs, bs;
      for (int t = 0; t < 6; ++t) {
        const auto yc = fc->decode_step(windows[t], cs);
        const auto yb = base->decode_step(windows[t], bs);
        CHECK(torch::allclose(yc, cut > 0.5 ? yb : plain->decode(windows[t]), 1e-5, 1e-6));
      }
      CHECK(cs.sizes() == fs_state.sizes());
    }
    filtered_meta["temporal"]["output_filter"]["lo"] = 0.5;
    filtered_meta["temporal"]["output_filter"]["hi"] = 0.2;
    rewrite_model_meta(dir / "gru-f.svm", filtered_meta);
    CHECK_THROWS_WITH(load_decoder(dir / "gru-f.svm", enc->info(), torch::kCPU),
                      Catch::Contains("output_filter"));
  }
  c.init_weights = dir / "gru.svm";  // and it continues from a sid-lite-gru file
  c.checkpoint_dir.clear();
  c.epochs = 1;
  meta = train_temporal(*enc, data, c, dir / "gru2.svm", log);
  CHECK(meta["training"]["started_from"]["architecture"] == "sid-lite-gru");
  CHECK(meta["training"]["trained"] == "gru");

  // --train-refine: the residual network learns too, the dense stage still not;
  // resumed from its checkpoint with its two rates.
  c.train_refine = true;
  c.checkpoint_dir = dir / "ckpt-refine";
  meta = train_temporal(*enc, data, c, dir / "gru3.svm", log);
  CHECK(meta["training"]["trained"] == "gru and residual network");
  const auto before = read_model_file(dir / "gru.svm");
  const auto after = read_model_file(dir / "gru3.svm");
  std::map<std::string, torch::Tensor> after_tensors(after.tensors.begin(), after.tensors.end());
  int refine_changed = 0, dense_changed = 0;
  for (const auto& [name, t] : before.tensors) {
    const bool same = torch::equal(t, after_tensors.at(name));
    if (name.rfind("down1.", 0) == 0 || name.rfind("out.", 0) == 0) refine_changed += !same;
    if (name.rfind("dense.", 0) == 0) dense_changed += !same;
  }
  CHECK(refine_changed > 0);
  CHECK(dense_changed == 0);
  c.epochs = 2;
  std::ostringstream resumed;
  train_temporal(*enc, data, c, dir / "gru3.svm", resumed);
  CHECK(resumed.str().find("resuming from") != std::string::npos);
}

TEST_CASE("output filter: still pixels averaged at alpha_min, changed ones taken whole",
          "[temporal]") {
  const OutputFilter f{0.25, 0.03, 0.12};
  CHECK(f.on());
  CHECK_FALSE(OutputFilter{}.on());
  CHECK(OutputFilter{}.to_json().is_null());
  CHECK(f.invalid().empty());
  CHECK_FALSE(OutputFilter{0, 0.03, 0.12}.invalid().empty());
  CHECK_FALSE(OutputFilter{0.2, 0.12, 0.03}.invalid().empty());
  const auto previous = torch::full({1, 1, 16, 16}, 0.5);
  // A small change everywhere (below lo): averaged in at alpha_min.
  auto y = f.apply(previous, torch::full({1, 1, 16, 16}, 0.52));
  CHECK(torch::allclose(y, torch::full_like(y, 0.5 + 0.25 * 0.02), 1e-6, 1e-6));
  // A large change (a cut, above hi): the new image whole.
  y = f.apply(previous, torch::full({1, 1, 16, 16}, 0.9));
  CHECK(torch::allclose(y, torch::full_like(y, 0.9), 1e-6, 1e-6));
  // Between lo and hi: a rate between.
  y = f.apply(previous, torch::full({1, 1, 16, 16}, 0.575));
  const double rate = 0.25 + 0.75 * (0.075 - 0.03) / (0.12 - 0.03);
  CHECK(y.mean().item<double>() == Approx(0.5 + rate * 0.075).epsilon(1e-4));
}

TEST_CASE("output filter: a scene cut is a large change of the 8x8 block means, row by row",
          "[temporal]") {
  const OutputFilter f{0.25, 0.03, 0.12, 0.08};
  CHECK(f.invalid().empty());
  CHECK(f.to_json()["cut"] == 0.08);
  CHECK_FALSE(OutputFilter{0.25, 0.03, 0.12}.to_json().contains("cut"));
  CHECK_FALSE(OutputFilter{0.25, 0.03, 0.12, -0.1}.invalid().empty());
  CHECK_FALSE(OutputFilter{0.25, 0.03, 0.12, 1}.invalid().empty());
  const auto json = nlohmann::json{{"temporal", {{"output_filter", f.to_json()}}}};
  CHECK(output_filter_from_meta(json, "x.svm").cut == 0.08);
  auto previous = torch::full({4, 1, 64, 64}, 0.5);
  auto estimate = previous.clone();
  estimate[0] += 0.05;  // a small change everywhere: the same scene, brighter
  estimate[1] += torch::rand({1, 64, 64}) * 0.6 - 0.3;  // noise: block means change little
  estimate[2].narrow(1, 0, 32).fill_(1.0);  // half the tile another scene: +0.25 on average
  estimate[3] = torch::rand({1, 64, 64}).gt(0.5).to(torch::kFloat32);  // pixel noise around 0.5
  const auto cut = f.scene_cut(previous, estimate);
  CHECK(cut.scalar_type() == torch::kBool);
  CHECK(cut.sizes() == torch::IntArrayRef({4}));
  CHECK_FALSE(cut[0].item<bool>());
  CHECK_FALSE(cut[1].item<bool>());
  CHECK(cut[2].item<bool>());
  CHECK_FALSE(cut[3].item<bool>());
  // Without a threshold, never a cut.
  CHECK_FALSE(OutputFilter{0.25, 0.03, 0.12}.scene_cut(previous, estimate).any().item<bool>());
}

TEST_CASE("set_lr: the first group's rate; the other groups keep their ratio to it",
          "[temporal][training]") {
  auto a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({2}, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a},
                      std::make_unique<torch::optim::AdamOptions>(1e-3));
  groups.emplace_back(std::vector<torch::Tensor>{b},
                      std::make_unique<torch::optim::AdamOptions>(1e-4));
  torch::optim::Adam opt(std::move(groups), torch::optim::AdamOptions(1e-3));
  const auto lr = [&](int i) {
    return static_cast<torch::optim::AdamOptions&>(opt.param_groups()[i].options()).lr();
  };
  spikevid::detail::set_lr(opt, 5e-4);
  CHECK(lr(0) == Approx(5e-4));
  CHECK(lr(1) == Approx(5e-5));
  spikevid::detail::set_lr(opt, 1e-5);
  CHECK(lr(0) == Approx(1e-5));
  CHECK(lr(1) == Approx(1e-6));
}

TEST_CASE("linear-multi: ridge on the last windows, fitted on sequences, loads as temporal",
          "[temporal][training]") {
  TempDir dir("linear-multi");
  const auto data = Dataset::load(spikevid::testing::write_photo_pack(dir, true), DatasetOptions{});
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  std::ostringstream log;
  TrainConfig c;
  c.architecture = "linear-multi";
  c.epochs = 1;
  c.images_per_epoch = 600;
  c.windows = 3;
  const auto meta = train_linear_multi(*enc, data, c, dir / "multi.svm", log);
  CHECK(meta["architecture"] == "linear-multi");
  CHECK(meta["temporal"]["windows"] == 3);
  CHECK(meta["n_inputs"] == enc->info().n_cells);  // the encoder's inputs; the file holds 3x
  CHECK(meta["scores"]["val_sequences"]["ssim"].get<double>() > 0);
  auto dec = load_decoder(dir / "multi.svm", enc->info(), torch::kCPU);
  CHECK(dec->temporal());
  const auto a = enc->spikes(data.val().narrow(0, 0, 2)).flatten(1);
  const auto b = enc->spikes(data.val().narrow(0, 2, 2)).flatten(1);
  torch::Tensor state;
  const auto first = dec->decode_step(a, state);
  CHECK(state.sizes() == torch::IntArrayRef({2, 2 * enc->info().n_cells}));
  CHECK(torch::allclose(first, dec->decode(a)));  // a fresh state: the window taken as still
  const auto second = dec->decode_step(b, state);
  CHECK(second.sizes() == torch::IntArrayRef({2, 1, 64, 64}));
  CHECK(torch::equal(state.narrow(1, enc->info().n_cells, enc->info().n_cells), b));
  c.windows = 1;
  CHECK_THROWS_WITH(train_linear_multi(*enc, data, c, dir / "x.svm", log),
                    Catch::Contains("--windows must be 2 to 16"));
}
