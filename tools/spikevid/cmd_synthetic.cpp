// spikevid synthetic: the line (stages/line.h) on a synthetic moving scene,
// scoring every frame, with the latency table at the end.
#include <cmath>
#include <iomanip>
#include <iostream>

#include <torch/torch.h>

#include "pipeline/latency_report.h"
#include "stages/line.h"
#include "tools/spikevid/cli_common.h"
#include "tools/spikevid/reports.h"

namespace spikevid::cli {
namespace {

struct SyntheticArgs {
  CommonOptions common;
  SyntheticCaptureConfig source{TileGrid{}, 300, 0, 1};
  std::string tiles = "1x1";
  EncodeConfig encode;
  std::string decoder = kDefaultDecoder, precision = "auto", cuda_graphs = "off";
  int batch = 0;  // auto
  std::size_t capacity = 4;
  std::size_t warmup = 10;
  std::string stats_path, trace_path, csv_path;
};

void run_synthetic(SyntheticArgs& a) {
  LineConfig c;
  c.device = parse_device(resolve_device(a.common));
  c.source = SourceKind::synthetic;
  c.synthetic = a.source;
  c.encode = a.encode;
  c.encode.seed = a.source.seed;
  c.decoder.decoder = a.decoder;
  c.view = View::reconstruction;  // the compose stage scores every frame
  c.sink = SinkKind::null;
  c.cuda_graphs = a.cuda_graphs == "on";
  c.batch = a.batch;
  c.threads = a.common.threads;
  c.pacing = a.source.pace_fps > 0 ? Pacing::live : Pacing::offline;
  c.capacity = a.capacity;
  c.warmup = a.warmup;
  c.stop_flag = &stop_flag();
  c.other_outputs = {a.stats_path, a.csv_path, a.trace_path};
  std::unique_ptr<Line> line;
  try {
    c.tiles = parse_tile_grid(a.tiles);
    c.precision = parse_precision_or_auto(a.precision);
    line = std::make_unique<Line>(c);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const auto r = line->run();
  const auto& g = line->grid();
  std::cout << "spikevid synthetic: " << r.frames_out << " frames of " << g.width() << "x"
            << g.height() << ", encoder " << line->encoder_info().id << ", decoder " << a.decoder
            << ", batch " << line->batch() << (line->batch_auto() ? " (auto)" : "") << ", "
            << to_string(c.device) << ", " << line->precision_plan().describe() << ", "
            << line->thread_plan().describe() << "\n";
  if (!std::isnan(r.mean_ssim))
    std::cout << "reconstruction: mean SSIM " << std::fixed << std::setprecision(3) << r.mean_ssim
              << ", mean PSNR " << std::setprecision(2) << r.mean_psnr << " dB\n";
  write_table(std::cout, line->recorder().summary());
  nlohmann::json extra = {{"command", command_line()}, {"frames_out", r.frames_out}};
  if (!std::isnan(r.mean_ssim))
    extra["reconstruction"] = {{"mean_ssim", r.mean_ssim}, {"mean_psnr_db", r.mean_psnr}};
  write_latency_reports(line->recorder(), {a.stats_path, a.csv_path, a.trace_path}, extra);
}

}  // namespace

void add_synthetic_command(CLI::App& app) {
  auto a = std::make_shared<SyntheticArgs>();
  auto* c = app.add_subcommand("synthetic",
                               "Encode and decode a synthetic moving scene through the line");
  c->option_defaults()->always_capture_default();
  c->footer(
      "Prints the reconstruction's SSIM and PSNR and the latency of every stage. Paced (--fps), "
      "it runs as live does: every edge keeps the latest frame.\n"
      "Examples:\n"
      "  spikevid synthetic --frames 300 --fps 30   (paced like a camera)\n"
      "  spikevid synthetic --frames 1000 --batch 8 --stats out/stats.json --trace out/trace.json");
  c->add_option("--frames", a->source.frames, "frames to run")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  c->add_option("--seed", a->source.seed, "scene and spike seed")->check(CLI::NonNegativeNumber);
  c->add_option("--tiles", a->tiles, "frames of RxC overlapping 64x64 tiles");
  c->add_option("--encoder", a->encode.encoder,
                "encoder: model file, TorchScript .pt, or 'retina'");
  c->add_option("--decoder", a->decoder, "decoder model file or TorchScript .pt");
  c->add_option("--precision", a->precision,
                "auto (as the video commands), float32, bfloat16, float16 (CUDA)")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16", "float16"}));
  c->add_option("--cuda-graphs", a->cuda_graphs, "off, on: the decoder as a CUDA graph (CUDA)")
      ->check(CLI::IsMember({"off", "on"}));
  c->add_option("--fps", a->source.pace_fps,
                "pace the source like a camera (0: as fast as possible, lossless)")
      ->check(CLI::Range(0.0, 10000.0));
  c->add_option("--batch", a->batch,
                "largest micro-batch a model stage takes (not paced); auto: 8, 1 when paced")
      ->check(not_zero)
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 1024))
      ->default_str("auto");
  c->add_option("--capacity", a->capacity, "channel capacity (not paced)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  c->add_option("--warmup", a->warmup, "frames left out of the statistics")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--stats", a->stats_path, "write the latency summary as JSON");
  c->add_option("--csv", a->csv_path, "write the latency summary as CSV");
  c->add_option("--trace", a->trace_path, "write a Chrome trace (opens in Perfetto)");
  add_common_options(*c, a->common);
  c->callback([a] { run_synthetic(*a); });
}

}  // namespace spikevid::cli
