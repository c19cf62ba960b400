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
#include "tests/models/test_data.h"

using namespace spikevid;
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
  c.init_weights = dir / "gru.svm";  // and it continues from a sid-lite-gru file
  c.checkpoint_dir.clear();
  c.epochs = 1;
  meta = train_temporal(*enc, data, c, dir / "gru2.svm", log);
  CHECK(meta["training"]["started_from"]["architecture"] == "sid-lite-gru");
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
