#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/metrics.h"
#include "models/model_file.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "models/training.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;

namespace {

// The small photo pack of tests/models/test_data.h, loaded with `views`
// validation and test views.
Dataset small_photos(const TempDir& dir, int64_t views) {
  DatasetOptions o;
  o.val_count = views;
  o.test_count = views;
  return Dataset::load(spikevid::testing::write_photo_pack(dir), o);
}

// SID-lite of `width` dense units, one epoch of two batches of 8.
TrainConfig tiny_lite(int64_t width) {
  TrainConfig c;
  c.architecture = "sid-lite";
  c.epochs = 1;
  c.batch = 8;
  c.images_per_epoch = 16;
  c.width = width;
  return c;
}

}  // namespace

TEST_CASE("training: a few Adam steps on a handful of images lower the loss", "[training]") {
  torch::manual_seed(5);
  auto enc = load_encoder("retina:grid=8", torch::kCPU);
  auto images =
      torch::rand({8, 1, 64, 64}) * 0.2 + torch::linspace(0.2, 0.8, 64).view({1, 1, 1, 64});
  auto counts = enc->spikes(images).flatten(1);
  Sid sid(counts.size(1));
  sid->fit_input_scaling(counts);
  torch::optim::Adam opt(sid->parameters(), torch::optim::AdamOptions(1e-3));
  sid->train();
  double first = 0, last = 0;
  // The reference ends in a BatchNorm, whose output starts at mean 0: Adam at
  // 1e-3 needs some steps to lift it to the images' 0.5 (1.38 → 0.88 in 60).
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    auto loss = torch::mse_loss(sid->forward(counts), images);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  CHECK(last < 0.7 * first);
}

TEST_CASE("dataset: photos give fresh patches, fixed validation and test sets", "[dataset]") {
  TempDir dir("ds");
  const auto pack = spikevid::testing::write_photo_pack(dir);
  DatasetOptions o;
  o.val_count = 10;
  o.test_count = 12;
  const auto d = Dataset::load(pack, o);
  CHECK(d.kind() == "photos");
  CHECK(d.train_size() == 2);
  CHECK(d.val().sizes() == torch::IntArrayRef({10, 1, 64, 64}));
  CHECK(d.test().sizes() == torch::IntArrayRef({12, 1, 64, 64}));
  CHECK(torch::equal(Dataset::load(pack, o).test(), d.test()));  // fixed by the seed
  std::mt19937_64 r1(1), r2(1), r3(2);
  auto a = d.train_epoch(5, r1), b = d.train_epoch(5, r2), c = d.train_epoch(5, r3);
  CHECK(torch::equal(a, b));
  CHECK(!torch::equal(a, c));
  CHECK(a.min().item<float>() >= 0);
  CHECK(a.max().item<float>() <= 1);
  CHECK(d.describe()["splits"]["test"]["sources"] == 2);
}

TEST_CASE("train_sid: writes a decoder with its metadata, and resumes from a checkpoint",
          "[training]") {
  TempDir dir("train");
  const auto data = small_photos(dir, 16);
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  TrainConfig c;
  c.epochs = 1;
  c.batch = 8;
  c.images_per_epoch = 32;
  c.checkpoint_dir = dir / "ck";
  c.command = "test";
  std::ostringstream log;
  auto meta = train_sid(*enc, data, c, dir / "sid.svm", log);
  CHECK(meta["architecture"] == "sid");
  CHECK(meta["encoder"]["id"] == enc->info().id);
  CHECK(meta["training"]["images_seen"] == 32);
  CHECK(meta["data"]["splits"]["train"]["sources"] == 2);
  CHECK(meta["scores"]["val"]["n"] == 16);
  // Pretend the first run had seen more: a resumed run counts on from there,
  // a fresh one would start again at zero.
  auto read_state = [&] { return nlohmann::json::parse(std::ifstream(dir / "ck/state.json")); };
  auto state = read_state();
  CHECK(state["epoch"] == 1);
  state["images_seen"] = 1000;
  std::ofstream(dir / "ck/state.json") << state.dump();
  c.epochs = 2;
  train_sid(*enc, data, c, dir / "sid.svm", log);
  CHECK(read_state()["epoch"] == 2);
  CHECK(read_state()["images_seen"] == 1032);
  auto dec = load_decoder(dir / "sid.svm", enc->info(), torch::kCPU);
  CHECK(dec->decode(enc->spikes(data.val())).sizes() == data.val().sizes());
}

TEST_CASE("train_sid: SID-lite trains, is written, and loads as a decoder", "[training]") {
  TempDir dir("train-lite");
  const auto data = small_photos(dir, 8);
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  TrainConfig c = tiny_lite(24);  // not the default width 512: the file must carry it
  c.epochs = 2;
  c.lr_schedule = "cosine";
  std::ostringstream log;
  auto meta = train_sid(*enc, data, c, dir / "lite.svm", log);
  CHECK(meta["architecture"] == "sid-lite");
  CHECK(meta["width"] == 24);
  CHECK(meta["training"]["lr_schedule"] == "cosine");
  auto dec = load_decoder(dir / "lite.svm", enc->info(), torch::kCPU);
  CHECK(dec->info().architecture == "sid-lite");
  auto y = dec->decode(enc->spikes(data.val()));
  CHECK(y.sizes() == data.val().sizes());
  CHECK(y.min().item<float>() >= 0);
  CHECK(y.max().item<float>() <= 1);
  c.architecture = "unet";
  CHECK_THROWS_WITH(train_sid(*enc, data, c, dir / "x.svm", log),
                    Catch::Contains("unknown decoder architecture 'unet'"));
}

TEST_CASE("train_sid: SID-lite with a ridge path writes it by reference and loads with it",
          "[training]") {
  TempDir dir("train-ridge");
  const auto data = small_photos(dir, 8);
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  std::filesystem::create_directories(dir / "w");
  std::ostringstream log;
  TrainConfig lin;
  lin.architecture = "linear";
  lin.epochs = 1;
  lin.images_per_epoch = 64;
  train_linear(*enc, data, lin, dir / "w/linear.svm", log);
  TrainConfig c = tiny_lite(16);
  c.ridge_init = dir / "w/linear.svm";
  train_sid(*enc, data, c, dir / "w/lite.svm", log);
  const auto f = read_model_file(dir / "w/lite.svm");
  CHECK(f.meta["ridge_path"]["file"] == "linear.svm");
  CHECK(f.meta["ridge_path"]["content_hash"] == read_model_file(dir / "w/linear.svm").content_hash);
  for (const auto& t : f.tensors) CHECK(t.first.rfind("ridge.", 0) != 0);
  auto dec = load_decoder(dir / "w/lite.svm", enc->info(), torch::kCPU);
  auto y = dec->decode(enc->spikes(data.val()));
  CHECK(y.sizes() == data.val().sizes());
  CHECK(y.std().item<float>() > 0);
  std::filesystem::remove(dir / "w/linear.svm");
  CHECK_THROWS_WITH(load_decoder(dir / "w/lite.svm", enc->info(), torch::kCPU),
                    Catch::Contains("does not exist"));
}

TEST_CASE("train_sid: SID-lite with a larger residual network from an --init of another size",
          "[training]") {
  TempDir dir("train-refine");
  const auto data = small_photos(dir, 8);
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  std::ostringstream log;
  TrainConfig c = tiny_lite(16);
  auto meta = train_sid(*enc, data, c, dir / "small.svm", log);
  CHECK(meta["refine"]["channels"] == 32);
  CHECK(meta["refine"]["depth"] == 1);
  // Another size from it: its dense stage (kept as it was by a vanishing
  // rate), the residual network fresh with its last layer at zero, so the
  // first images are the dense stage's.
  c.init_weights = dir / "small.svm";
  c.refine_channels = 8;
  c.refine_depth = 2;
  c.lr = 1e-7;
  meta = train_sid(*enc, data, c, dir / "big.svm", log);
  CHECK(log.str().find("the residual network of 8 channels, depth 2 starts fresh") !=
        std::string::npos);
  CHECK(meta["refine"]["channels"] == 8);
  CHECK(meta["refine"]["depth"] == 2);
  const auto small = read_model_file(dir / "small.svm"), big = read_model_file(dir / "big.svm");
  auto tensor = [](const ModelFile& f, const std::string& name) {
    for (const auto& t : f.tensors)
      if (t.first == name) return t.second.to(torch::kFloat32);
    FAIL("no tensor " << name);
    return torch::Tensor();
  };
  CHECK(torch::allclose(tensor(small, "dense.0.weight"), tensor(big, "dense.0.weight"), 0, 1e-3));
  CHECK(tensor(big, "down1.0.weight").size(0) == 8);
  CHECK(tensor(big, "out.weight").abs().max().item<float>() < 1e-3);
  auto dec = load_decoder(dir / "big.svm", enc->info(), torch::kCPU);
  CHECK(dec->decode(enc->spikes(data.val())).sizes() == data.val().sizes());
  // Without a size asked, --init's: a run from big.svm keeps 8 channels, depth 2.
  c.init_weights = dir / "big.svm";
  c.refine_channels = c.refine_depth = 0;
  meta = train_sid(*enc, data, c, dir / "again.svm", log);
  CHECK(meta["refine"]["channels"] == 8);
  CHECK(meta["refine"]["depth"] == 2);
}

TEST_CASE("cosine schedule: from lr down to lr_min over the epochs", "[training]") {
  CHECK(cosine_lr(1e-3, 1e-5, 0, 11) == Approx(1e-3));
  CHECK(cosine_lr(1e-3, 1e-5, 5, 11) == Approx(0.5 * (1e-3 + 1e-5)));
  CHECK(cosine_lr(1e-3, 1e-5, 10, 11) == Approx(1e-5));
  CHECK(cosine_lr(1e-3, 1e-5, 20, 11) == Approx(1e-5));  // past the end: stays at the floor
  CHECK(cosine_lr(1e-3, 1e-5, 0, 1) == Approx(1e-3));
  for (int e = 1; e < 11; ++e)
    CHECK(cosine_lr(1e-3, 1e-5, e, 11) < cosine_lr(1e-3, 1e-5, e - 1, 11));
}

TEST_CASE("dataset: a view mix gives whole views, clip frames, jitter; fixed test views",
          "[dataset]") {
  TempDir dir("views");
  const auto pack = spikevid::testing::write_photo_pack(dir, true);
  DatasetOptions o;
  o.val_count = 10;
  o.test_count = 12;
  const auto d = Dataset::load(pack, o);
  CHECK(d.views().recorded);
  CHECK(d.views().whole == 0.5);
  CHECK(d.train_size() == 2 + 5);  // two photos and a clip of five frames
  // Validation: the patches, a whole view of each validation photo, 3x4 tiles of each frame.
  CHECK(d.val().size(0) == 10 + 2 + 5 * 12);
  CHECK(d.test().sizes() == torch::IntArrayRef({12, 1, 64, 64}));
  CHECK(d.test_whole().sizes() == torch::IntArrayRef({2, 1, 64, 64}));
  REQUIRE(d.test_clips().size() == 1);
  CHECK(d.test_clips().begin()->first == "clip2");
  CHECK(d.test_clips().begin()->second.size() == 5);
  CHECK(d.describe()["splits"]["test"]["clips"]["frames"] == 5);
  CHECK(d.describe()["views"]["whole"] == 0.5);

  std::mt19937_64 r1(1), r2(1);
  auto a = d.train_epoch(200, r1);
  CHECK(torch::equal(a, d.train_epoch(200, r2)));
  CHECK(a.sizes() == torch::IntArrayRef({200, 1, 64, 64}));
  CHECK(a.min().item<float>() >= 0);
  CHECK(a.max().item<float>() <= 1);
}

TEST_CASE("dataset: brightness and contrast jitter stay within the mix's bounds", "[dataset]") {
  // One 128x128 photo per split, dark left half (64) and bright right half
  // (192): every whole view is the same image, so what varies is the jitter.
  TempDir dir("jitter");
  GrayImage half{128, 128, {}};
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x) half.pixels.push_back(x < 64 ? 64 : 192);
  Pack p{"photos", "halves", "test", {}};
  for (const char* split : {"train", "val", "test"}) p.images.push_back({split, -1, split, half});
  p.views = ViewMix{1.0, 0, 0.05, 1.0, false, 0.1, 0.3, true};
  write_pack(dir / "halves.pack", p);
  DatasetOptions o;
  o.val_count = 4;
  o.test_count = 4;
  std::mt19937_64 rng(3);
  const auto views = Dataset::load(dir / "halves.pack", o).train_epoch(300, rng);
  const auto means = views.mean({1, 2, 3}), spreads = views.std({1, 2, 3}, false);
  const double mean0 = 128.0 / 255, spread0 = 64.0 / 255;  // the image's own
  CHECK(means.min().item<double>() >= mean0 - 0.1 - 1e-4);
  CHECK(means.max().item<double>() <= mean0 + 0.1 + 1e-4);
  CHECK(means.max().item<double>() - means.min().item<double>() > 0.15);
  CHECK(spreads.min().item<double>() >= 0.7 * spread0 - 1e-4);
  CHECK(spreads.max().item<double>() <= 1.3 * spread0 + 1e-4);
  CHECK(spreads.max().item<double>() - spreads.min().item<double>() > 0.4 * spread0);

  p.views.brightness = p.views.contrast = 0;  // without jitter: every view the same
  write_pack(dir / "plain.pack", p);
  const auto plain = Dataset::load(dir / "plain.pack", o).train_epoch(20, rng);
  CHECK(torch::allclose(plain, plain[0].expand_as(plain)));
}

TEST_CASE("whole_view: the centred square of the short side, averaged to 64x64", "[dataset]") {
  auto image = torch::zeros({1, 1, 128, 256}, torch::kUInt8);
  image.narrow(3, 64, 128).fill_(255);  // the centre square is white, the sides black
  auto v = whole_view(image);
  CHECK(v.sizes() == torch::IntArrayRef({1, 1, 64, 64}));
  CHECK(v.min().item<float>() == 1.0f);
}

TEST_CASE("train_step: bfloat16 autocast trains and keeps float32 weights", "[training]") {
  torch::manual_seed(5);
  auto enc = load_encoder("retina:grid=8", torch::kCPU);
  auto images =
      torch::rand({16, 1, 64, 64}) * 0.2 + torch::linspace(0.2, 0.8, 64).view({1, 1, 1, 64});
  SidLite net(enc->info().n_cells);
  {
    torch::NoGradGuard no_grad;
    net->fit_input_scaling(enc->spikes(images).flatten(1));
  }
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  net->train();
  const auto forward = [&](const torch::Tensor& c) { return net->forward(c); };
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step)
    (step == 0 ? first : last) = train_step(forward, opt, *enc, images, torch::kBFloat16);
  CHECK(last < 0.7 * first);
  for (const auto& p : net->parameters()) CHECK(p.scalar_type() == torch::kFloat32);
  CHECK_FALSE(at::autocast::is_cpu_enabled());  // restored after each step
}

TEST_CASE("training_loss: ssim-l1 is zero on equal images and weighs SSIM and L1", "[training]") {
  torch::manual_seed(4);
  const auto x = torch::rand({2, 1, 64, 64});
  const auto y = (x + 0.1 * torch::randn({2, 1, 64, 64})).clamp(0, 1);
  CHECK(training_loss(x, x, Loss::ssim_l1).item<double>() == Approx(0).margin(1e-6));
  CHECK(training_loss(y, x, Loss::mse).item<double>() ==
        Approx(torch::mse_loss(y, x).item<double>()));
  const double ssim = ssim_differentiable(y, x).mean().item<double>();
  const double l1 = torch::l1_loss(y, x).item<double>();
  CHECK(training_loss(y, x, Loss::ssim_l1).item<double>() ==
        Approx(0.84 * (1 - ssim) + 0.16 * l1).epsilon(1e-5));
  CHECK(std::string(loss_name(Loss::ssim_l1)) == "ssim-l1");
  CHECK(std::string(loss_name(Loss::mse)) == "mse");
}
