#include "stages/line.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "io/spike_file.h"
#include "models/model_file.h"
#include "stages/null_sink.h"
#include "stages/spike_files.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

const std::string kWeights = SPIKEVID_WEIGHTS_DIR;

LineConfig synthetic_line(std::int64_t frames) {
  LineConfig c;
  c.source = SourceKind::synthetic;
  c.synthetic.frames = frames;
  c.encode.encoder = kWeights + "/encoder-cnn.svm";
  c.decoder.decoder = kWeights + "/sid-lite-natural.svm";
  c.sink = SinkKind::null;
  c.warmup = 0;
  return c;
}

std::vector<std::string> names_of(const Line& line) { return line.stage_names(); }

TEST_CASE("line: offline, every frame through, the stages named as in every report", "[line]") {
  auto c = synthetic_line(12);
  c.view = View::none;
  c.batch = 4;
  int outputs = 0;
  c.on_output = [&](const FrameMeta&) { ++outputs; };
  Line line(c);
  const auto r = line.run();
  CHECK(r.frames_in == 12);
  CHECK(r.frames_out == 12);
  CHECK(outputs == 12);
  CHECK_FALSE(r.interrupted);
  CHECK(std::isnan(r.mean_ssim));  // no view, no scores
  CHECK(names_of(line) ==
        std::vector<std::string>{"capture", "preprocess", "encode", "decode", "sink"});
  const auto s = line.recorder().summary();
  CHECK(s.frames == 12);
  for (const auto& e : s.edges) {
    CHECK(e.stats.overflow == Overflow::block);
    CHECK(e.stats.dropped == 0);
  }
}

TEST_CASE("line: the side-by-side view adds compose, which scores every frame", "[line]") {
  auto c = synthetic_line(6);
  c.tiles = parse_tile_grid("2x2");
  Line line(c);
  const auto r = line.run();
  CHECK(r.frames_out == 6);
  CHECK(names_of(line).at(4) == "compose");
  CHECK(r.mean_ssim > 0.2);
  CHECK(r.mean_ssim < 1);
  CHECK(line.grid().rows == 2);
}

TEST_CASE("line: live keeps the latest frame on every edge and counts every drop", "[line]") {
  auto c = synthetic_line(60);
  c.synthetic.pace_fps = 400;  // faster than the models: frames must drop
  c.pacing = Pacing::live;
  Line line(c);
  const auto r = line.run();
  const auto s = line.recorder().summary();
  std::uint64_t dropped = 0;
  for (const auto& e : s.edges) {
    CHECK(e.stats.overflow == Overflow::keep_latest);
    CHECK(e.stats.capacity == 1);
    dropped += e.stats.dropped;
  }
  CHECK(r.frames_in == 60);
  CHECK(static_cast<std::uint64_t>(r.frames_out) + dropped == 60);
}

TEST_CASE("line: settings that do not go together are refused before anything runs", "[line]") {
  auto c = synthetic_line(2);
  c.pacing = Pacing::live;
  c.batch = 2;
  CHECK_THROWS_AS(Line(c), std::invalid_argument);
  c = synthetic_line(2);
  c.precision = Precision::float16;
  CHECK_THROWS_AS(Line(c), std::invalid_argument);
  c = synthetic_line(2);
  c.cuda_graphs = true;
  CHECK_THROWS_AS(Line(c), std::invalid_argument);
  c = synthetic_line(2);
  c.view = View::none;
  c.sink = SinkKind::file;
  c.output = "x.mp4";
  CHECK_THROWS_AS(Line(c), std::invalid_argument);
  c = synthetic_line(2);
  c.decode = false;  // and no spike file to record to
  CHECK_THROWS_AS(Line(c), std::invalid_argument);
}

TEST_CASE("line: recorded spikes decode, streamed from the file, to the same frames", "[line]") {
  test::TempDir dir;
  const auto spikes = dir.file("s.h5");
  auto c = synthetic_line(9);
  c.tiles = parse_tile_grid("1x2");
  c.decode = false;
  c.record_spikes = spikes;
  {
    Line encode(c);
    const auto r = encode.run();
    CHECK(r.frames_out == 9);
    CHECK(names_of(encode).back() == "record");
  }
  CHECK_FALSE(std::filesystem::exists(spikes + ".part-" + std::to_string(::getpid())));
  SpikeFileSource source(spikes);
  CHECK(source.frames() == 9);
  CHECK(source.grid().cols == 2);
  CHECK(source.encoder().n_cells == 2048);
  LineConfig d;
  d.source = SourceKind::spike_file;
  d.input = spikes;
  d.decoder.decoder = kWeights + "/sid-lite-natural.svm";
  d.view = View::none;
  d.warmup = 0;
  Line decode(d);
  const auto r = decode.run();
  CHECK(r.frames_out == 9);
  CHECK(names_of(decode) == std::vector<std::string>{"read", "decode", "sink"});
  // An output that is the line's own input is refused.
  d.record_spikes = spikes;
  d.source = SourceKind::spike_file;
  CHECK_THROWS_WITH(Line(d), Catch::Matchers::Contains("is the input"));
}

TEST_CASE("line: --threads auto splits the cores by measured cost; explicit settings are kept",
          "[line]") {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto c = synthetic_line(4);
  c.view = View::none;
  {
    Line line(c);  // threads 0: auto
    const auto& p = line.thread_plan();
    CHECK(p.automatic);
    CHECK(p.cores == cores);
    CHECK(p.encode_ms > 0);
    CHECK(p.decode_ms > 0);
    CHECK(p.decode_threads == 1);
    CHECK(p.decode_workers >= 1);
    CHECK(p.decode_workers <= cores);
    CHECK(p.encode_threads >= 1);
    CHECK(p.encode_threads <= cores);
    // The decoder costs more than the encoder here, so it never gets fewer threads.
    CHECK(p.decode_workers >= p.encode_threads);
    CHECK_THAT(p.describe(), Catch::Matchers::Contains("auto"));
    CHECK(line.run().frames_out == 4);
  }
  c.threads = 2;
  {
    Line line(c);
    const auto& p = line.thread_plan();
    CHECK_FALSE(p.automatic);
    CHECK(p.encode_threads == 2);
    CHECK(p.decode_threads == 2);
    CHECK(p.decode_workers == 1);
  }
  c.threads = 1;
  c.decode_workers = 3;
  {
    Line line(c);
    CHECK(line.thread_plan().decode_workers == 3);
    CHECK(line.run().frames_out == 4);
  }
  c = synthetic_line(2);
  c.decode = false;
  test::TempDir dir;
  c.record_spikes = dir.file("s.h5");
  {
    Line line(c);  // encode alone: every core to the encoder
    CHECK(line.thread_plan().encode_threads == cores);
    CHECK(line.thread_plan().decode_workers == 0);
  }
}

// Each Reconstruction carries its own input, so a mean score alone would not
// see frames out of order: the sink checks the sequence numbers, and the exact
// mean shows the same spikes decoded to the same images (auto's measuring
// calls must not move the Poisson draws either). Batch 4, float32: offline
// batches are always full (BatchFill::full), so the same frames share each
// model call whatever the timing and the workers; oneDNN's float32 results
// depend on that (up to 4e-5 in the encoder's rates, 2e-7 in the images).
TEST_CASE("line: several decode workers give one worker's frames, in order", "[line]") {
  auto run = [](int threads, int workers) {
    auto c = synthetic_line(24);
    c.tiles = parse_tile_grid("1x2");
    c.view = View::reconstruction;
    c.batch = 4;
    c.precision = Precision::float32;
    c.threads = threads;
    c.decode_workers = workers;
    std::uint64_t expected = 0;
    bool in_order = true;
    c.on_output = [&](const FrameMeta& m) { in_order = in_order && m.seq == expected++; };
    Line line(c);
    const auto r = line.run();
    CHECK(r.frames_out == 24);
    CHECK(in_order);
    return std::make_pair(r.mean_ssim, r.mean_psnr);
  };
  const auto one = run(1, 1);
  const auto three = run(1, 3);
  const auto automatic = run(0, 0);
  CHECK(three.first == one.first);  // bit for bit
  CHECK(three.second == one.second);
  // auto may give the encoder more than one thread on a larger machine, which
  // moves float32 results in the last bits; other Poisson draws would move the
  // mean by 1e-4 or more.
  CHECK(automatic.first == Approx(one.first).epsilon(1e-6));
  CHECK(automatic.second == Approx(one.second).epsilon(1e-6));
}

TEST_CASE("line: precision auto uses bfloat16 only for models whose file records it is safe",
          "[line]") {
  const bool fast = cpu_has_fast_bfloat16();
  auto c = synthetic_line(3);
  c.view = View::none;
  c.threads = 1;
  c.precision = std::nullopt;  // auto
  {
    Line line(c);  // the shipped models: both record a bfloat16 check within 0.005 SSIM
    const auto& p = line.precision_plan();
    CHECK(p.automatic);
    const auto expected = fast ? Precision::bfloat16 : Precision::float32;
    CHECK(p.encoder == expected);
    CHECK(p.decoder == expected);
    CHECK_THAT(p.describe(), Catch::Matchers::Contains(fast ? "below float32 on" : "no AMX"));
    CHECK(line.run().frames_out == 3);
  }
  // A copy of a decoder whose record is taken out: float32, and the reason said.
  test::TempDir dir;
  const auto copy = dir.file("linear.svm");
  std::filesystem::copy_file(kWeights + "/linear-natural.svm", copy);
  auto meta = read_model_file(copy).meta;
  meta.erase("precision_check");
  rewrite_model_meta(copy, meta);
  c.decoder.decoder = copy;
  {
    Line line(c);
    const auto& p = line.precision_plan();
    CHECK(p.decoder == Precision::float32);
    CHECK_THAT(p.describe(), Catch::Matchers::Contains(fast ? "not checked" : "no AMX"));
  }
  // An explicit precision is taken as it is.
  c.precision = Precision::float32;
  {
    Line line(c);
    CHECK_FALSE(line.precision_plan().automatic);
    CHECK(line.precision_plan().decoder == Precision::float32);
  }
}

TEST_CASE("line: batch auto is 8 offline and 1 live", "[line]") {
  auto c = synthetic_line(20);
  c.view = View::none;
  c.threads = 1;
  c.batch = 0;
  {
    Line line(c);
    CHECK(line.batch() == kAutoBatch);
    CHECK(line.batch_auto());
    CHECK(line.run().frames_out == 20);
  }
  c.pacing = Pacing::live;
  {
    Line line(c);
    CHECK(line.batch() == 1);
  }
}

TEST_CASE("line: stop() before or during the run ends it, outputs finalized", "[line]") {
  auto c = synthetic_line(100000);
  c.view = View::none;
  Line line(c);
  line.stop();
  const auto r = line.run();
  CHECK(r.interrupted);
  CHECK(r.frames_out < 100000);
}

TEST_CASE("null sink: counts what it is given, keeps nothing", "[line]") {
  NullSink sink;
  for (int i = 0; i < 3; ++i) sink.write(Composed{});
  sink.finish();
  CHECK(sink.frames() == 3);
}

}  // namespace
}  // namespace spikevid
