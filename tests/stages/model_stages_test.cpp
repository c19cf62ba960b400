#include <algorithm>
#include <filesystem>
#include <vector>

#include <unistd.h>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/decoder.h"
#include "models/encoder.h"
#include "models/model_file.h"
#include "models/sid_lite_gru.h"
#include "stages/decode_stage.h"
#include "stages/encode_stage.h"
#include "stages/gpu_lane.h"
#include "stages/tiles.h"

using namespace spikevid;

namespace {

const std::string kWeights = SPIKEVID_WEIGHTS_DIR;

FramePtr grey_frame(const TileGrid& g, std::uint8_t level) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(g.width()) * g.height(), level);
  return frame_from_pixels(px.data(), g.width(), g.height(), g, false);
}

}  // namespace

TEST_CASE("model stages on the CPU: no lane, no events, output on the CPU in [0,1]", "[stages]") {
  CHECK(make_gpu_lane("cpu") == nullptr);
  EncodeStage enc(EncodeConfig{kWeights + "/encoder-cnn.svm", Device::cpu, 1, 3});
  TileGrid g;
  g.rows = 2;
  g.cols = 3;
  DecodeStage dec(DecodeConfig{kWeights + "/sid-lite-natural.svm", Device::cpu, g},
                  enc.encoder().info());
  std::vector<FramePtr> frames;
  frames.push_back(grey_frame(g, 40));
  frames.push_back(grey_frame(g, 200));
  auto spikes = enc.process_batch(std::move(frames));
  REQUIRE(spikes.size() == 2);
  CHECK(spikes[0]->ready == nullptr);
  CHECK(spikes[0]->counts.size(0) == 6);
  auto out = dec.process_batch(std::move(spikes));
  REQUIRE(out.size() == 2);
  for (const auto& r : out) {
    CHECK(r->output.device().is_cpu());
    CHECK(r->output.sizes() == torch::IntArrayRef({1, 1, g.height(), g.width()}));
    CHECK(r->output.min().item<float>() >= 0);
    CHECK(r->output.max().item<float>() <= 1);
  }
  // A dark frame decodes darker than a bright one.
  CHECK(out[0]->output.mean().item<float>() < out[1]->output.mean().item<float>());
  CHECK(enc.gpu_ms().empty());
  CHECK(dec.gpu_ms().empty());
}

TEST_CASE("decode stage: half precision and CUDA graphs are refused without CUDA", "[stages]") {
  if (torch::cuda::is_available()) return;  // the GPU case below covers them
  EncodeStage enc(EncodeConfig{kWeights + "/encoder-cnn.svm", Device::cpu, 1, 3});
  DecodeConfig c{kWeights + "/sid-lite-natural.svm", Device::cpu, TileGrid{}};
  c.precision = Precision::float16;
  CHECK_THROWS_AS(DecodeStage(c, enc.encoder().info()), std::invalid_argument);
  CHECK_THROWS_AS(parse_precision_setting("float64"), std::invalid_argument);
  CHECK_THROWS_AS(parse_device("tpu"), std::invalid_argument);
  CHECK(parse_precision_setting("bfloat16") == Precision::bfloat16);
  c.precision = Precision::float32;
  c.cuda_graphs = true;
  CHECK_THROWS_AS(DecodeStage(c, enc.encoder().info()), std::invalid_argument);
}

TEST_CASE("bfloat16 on the CPU: the models' rates and images stay close to float32's", "[stages]") {
  // bfloat16 keeps 8 bits of mantissa: rates within a few per cent, pixels
  // within a few hundredths (oneDNN runs it on AMX tiles where the CPU has them).
  auto enc = load_encoder(kWeights + "/encoder-cnn.svm", torch::kCPU);
  torch::manual_seed(5);
  auto images = torch::rand({4, 1, 64, 64});
  const auto rates32 = enc->rates(images);
  enc->set_precision(torch::kBFloat16);
  const auto rates16 = enc->rates(images);
  CHECK(rates16.scalar_type() == torch::kFloat32);
  CHECK(((rates16 - rates32).abs().mean() / rates32.abs().mean()).item<double>() < 0.02);
  CHECK((rates16 - rates32).abs().max().item<double>() > 0);  // bfloat16 did run
  const auto counts = enc->spikes(images);
  CHECK(counts.scalar_type() == torch::kFloat32);
  auto dec32 = load_decoder(kWeights + "/sid-natural.svm", enc->info(), torch::kCPU);
  const auto expected = dec32->decode(counts);
  DecodeConfig c{kWeights + "/sid-natural.svm", Device::cpu, TileGrid{}};
  c.precision = Precision::bfloat16;
  DecodeStage dec(c, enc->info());
  double largest = 0;
  for (int64_t i = 0; i < 4; ++i) {
    auto s = std::make_unique<Spikes>();
    s->counts = counts.narrow(0, i, 1);
    auto r = dec.process(std::move(s));
    CHECK(r->output.scalar_type() == torch::kFloat32);
    const auto diff = (r->output - expected.narrow(0, i, 1)).abs();
    CHECK(diff.mean().item<double>() < 0.01);
    CHECK(diff.max().item<double>() < 0.1);
    largest = std::max(largest, diff.max().item<double>());
  }
  CHECK(largest > 0);  // the decoder did run in bfloat16
}

TEST_CASE("the shipped decoders prepared for inference give their images as trained", "[stages]") {
  // models/inference.h, at load: BatchNorm folded, no dropout, channels-last
  // convolutions; float32 and bfloat16 (the precision auto picks here).
  auto enc = load_encoder(kWeights + "/encoder-cnn.svm", torch::kCPU);
  torch::manual_seed(8);
  const auto counts = enc->spikes(torch::rand({6, 1, 64, 64}));
  for (const auto* name : {"/sid-natural.svm", "/sid-lite-natural.svm", "/sid-lite-deep-natural.svm",
                           "/linear-natural.svm"}) {
    for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      auto trained = load_decoder(kWeights + name, enc->info(), torch::kCPU, Modules::as_trained);
      auto prepared = load_decoder(kWeights + name, enc->info(), torch::kCPU);
      trained->set_precision(dtype);
      prepared->set_precision(dtype);
      const auto want = trained->decode(counts);
      const auto got = prepared->decode(counts);
      const torch::Tensor diff = (got - want).abs();
      INFO(name << (dtype == torch::kFloat32 ? " float32" : " bfloat16") << ": mean difference "
                << diff.mean().item<double>() << ", largest " << diff.max().item<double>());
      CHECK(got.is_contiguous());
      if (dtype == torch::kFloat32) {
        CHECK(diff.max().item<double>() < 1e-5);
      } else {  // bfloat16 rounds the folded weights once, as trained rounds each step
        CHECK(diff.mean().item<double>() < 0.01);
      }
    }
  }
}

TEST_CASE("CUDA path: the GPU's reconstruction equals the CPU's, with and without graphs",
          "[stages][gpu]") {
  if (!torch::cuda::is_available() || !have_cuda_path()) {
    WARN("no CUDA device or no CUDA path in this build: the CUDA case did not run");
    return;
  }
  auto enc = load_encoder(kWeights + "/encoder-cnn.svm", torch::kCPU);
  torch::manual_seed(5);
  auto images = torch::rand({4, 1, 64, 64});
  auto counts = enc->spikes(images);
  auto cpu = load_decoder(kWeights + "/sid-natural.svm", enc->info(), torch::kCPU);
  const auto expected = cpu->decode(counts);
  for (bool graphs : {false, true}) {
    DecodeConfig c{kWeights + "/sid-natural.svm", Device::cuda, TileGrid{}};
    c.cuda_graphs = graphs;
    DecodeStage dec(c, enc->info());
    for (int repeat = 0; repeat < 2; ++repeat)  // the second replays the graph
      for (int64_t i = 0; i < 4; ++i) {
        auto s = std::make_unique<Spikes>();
        s->counts = counts.narrow(0, i, 1);
        auto r = dec.process(std::move(s));
        CHECK(r->output.device().is_cpu());
        CHECK((r->output - expected.narrow(0, i, 1)).abs().max().item<double>() < 1e-4);
      }
    CHECK(dec.gpu_ms().size() >= 8);
  }
}

namespace {

// A small temporal decoder file (SID-lite-GRU at random, its correction on)
// for `enc`, whose counts have n inputs.
std::string write_temporal_decoder(const std::string& path, const EncoderInfo& enc) {
  torch::manual_seed(5);
  const int64_t n = enc.n_cells * enc.bins;
  SidLiteGru net(n, 16, false, 4);
  {
    torch::NoGradGuard no_grad;
    net->gru_out->weight.normal_(0, 0.2);
  }
  const nlohmann::json meta = {{"kind", "decoder"},
                               {"architecture", "sid-lite-gru"},
                               {"image_size", 64},
                               {"n_inputs", n},
                               {"width", 16},
                               {"temporal", {{"hidden", 4}}},
                               {"encoder", {{"id", enc.id}}}};
  write_model_file(path, meta, *net, false);
  return path;
}

SpikesPtr spikes_of(const torch::Tensor& counts, std::uint64_t seq, int stream = 0) {
  auto s = std::make_unique<Spikes>();
  s->counts = counts;
  s->meta.seq = seq;
  s->stream = stream;
  return s;
}

}  // namespace

TEST_CASE("decode stage, temporal decoder: one state per stream, gaps go on, long gaps reset",
          "[stages][temporal]") {
  auto enc = load_encoder("retina:grid=4", torch::kCPU);
  const auto path = (std::filesystem::temp_directory_path() /
                     ("spikevid-temporal-" + std::to_string(::getpid()) + ".svm"))
                        .string();
  write_temporal_decoder(path, enc->info());
  auto reference = load_decoder(path, enc->info(), torch::kCPU);
  REQUIRE(reference->temporal());
  torch::manual_seed(6);
  std::vector<torch::Tensor> a, b;  // two streams' counts [1,1,N], five frames each
  for (int i = 0; i < 5; ++i) {
    a.push_back(enc->spikes(torch::rand({1, 1, 64, 64})).unsqueeze(1));
    b.push_back(enc->spikes(torch::rand({1, 1, 64, 64})).unsqueeze(1));
  }
  // What the decoder gives each stream alone, frame after frame.
  auto alone = [&](const std::vector<torch::Tensor>& frames) {
    std::vector<torch::Tensor> out;
    torch::Tensor state;
    for (const auto& c : frames) out.push_back(reference->decode_step(c.flatten(1), state));
    return out;
  };
  const auto ya = alone(a), yb = alone(b);
  DecodeStage dec(DecodeConfig{path, Device::cpu, TileGrid{}}, enc->info());
  // The two streams interleaved, several frames of one stream in a batch.
  std::vector<SpikesPtr> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(spikes_of(a[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i), 0));
    batch.push_back(spikes_of(b[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i), 1));
  }
  auto out = dec.process_batch(std::move(batch));
  for (int i = 0; i < 3; ++i) {
    CHECK(torch::allclose(out[2 * i]->output, ya[static_cast<std::size_t>(i)], 1e-5, 1e-6));
    CHECK(torch::allclose(out[2 * i + 1]->output, yb[static_cast<std::size_t>(i)], 1e-5, 1e-6));
  }
  CHECK((ya[2] - reference->decode(a[2].flatten(1))).abs().max().item<float>() > 1e-4);
  // Stream 0 skips two frames (seq 5 after 2): it goes on from its state.
  auto r = dec.process(spikes_of(a[3], 5, 0));
  CHECK(torch::allclose(r->output, ya[3], 1e-5, 1e-6));
  CHECK(dec.state_gaps() == 1);
  CHECK(dec.state_resets() == 0);
  // A gap longer than kMaxStateGap: afresh, as the first frame of a stream.
  r = dec.process(spikes_of(a[4], 5 + kMaxStateGap + 2, 0));
  CHECK(torch::allclose(r->output, reference->decode(a[4].flatten(1)), 1e-5, 1e-6));
  CHECK(dec.state_resets() == 1);
  // Numbers that go back (a new stream on the same port): afresh too.
  r = dec.process(spikes_of(b[3], 0, 1));
  CHECK(torch::allclose(r->output, reference->decode(b[3].flatten(1)), 1e-5, 1e-6));
  CHECK(dec.state_resets() == 2);
  // A new stream in the batch of one that goes on: each as it would be alone.
  std::vector<SpikesPtr> both;
  both.push_back(spikes_of(a[0], 5 + kMaxStateGap + 3, 0));
  both.push_back(spikes_of(b[0], 0, 2));
  out = dec.process_batch(std::move(both));
  torch::Tensor s0;
  (void)reference->decode_step(a[4].flatten(1), s0);
  CHECK(torch::allclose(out[0]->output, reference->decode_step(a[0].flatten(1), s0), 1e-5, 1e-6));
  CHECK(torch::allclose(out[1]->output, reference->decode(b[0].flatten(1)), 1e-5, 1e-6));
  std::filesystem::remove(path);
}
