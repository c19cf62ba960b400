// spikevid bench: the line users run (stages/line.h), measured. Offline mode
// is transcode's line (every edge blocks), realtime mode live's (paced like a
// camera, every edge keeps the latest frame), both with the compose stage and
// a null sink, on synthetic frames or any source: latency per stage and end
// to end, frames per second, drops, CPU and memory, the models' FLOP/s
// against this machine's matrix-product peak, and the line's efficiency
// against the same stages run one after another on one thread. Sweeps over
// every list option run each combination. On a CUDA device the model stages
// take the CUDA path (stages/gpu_lane.h): GPU time per stage from CUDA
// events, half precision and CUDA graphs as options, and the GPU's
// reconstruction of a fixed input against the CPU's. Network mode
// (tools/spikevid/bench_network.h) measures the spike stream over loopback
// instead: bytes a second against H.264, added latency. A LibTorch-only build (a
// GPU machine without OpenCV or GStreamer) has synthetic frames, --view none
// and no --plot.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "models/cnn_encoder.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/ridge_path.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "models/sid_lite_gru.h"
#include "pipeline/latency_report.h"
#include "stages/gpu_lane.h"
#include "stages/line.h"
#include "tools/spikevid/cli_common.h"
#include "tools/spikevid/reports.h"
#ifdef SPIKEVID_HAVE_IO
#include "io/output_file.h"
#include "io/udp_relay.h"
#include "stages/compose.h"
#include "tools/spikevid/bench_network.h"
#include "tools/spikevid/bench_plot.h"
#endif

namespace spikevid::cli {
namespace {

struct BenchArgs {
  CommonOptions common;
  std::string mode = "offline", source = "synthetic";
#ifdef SPIKEVID_HAVE_IO
  std::string view = "side-by-side";  // the shipped line: compose, then a null sink
#else
  std::string view = "none";
#endif
  std::vector<std::string> tiles{"1x1"}, encoders{"models/weights/encoder-cnn.svm"},
      decoders{kDefaultDecoder}, devices{"cpu"}, precisions{"auto"}, graphs{"off"},
      modules{"optimized"};
  std::vector<int> batches{0}, threads{0}, workers{0};  // 0: auto
  double fps = 30;
  std::int64_t frames = 0;  // 0: 600 offline, 300 realtime
  std::size_t warmup = 20;
  bool no_sequential = false;
  bool peer = false;        // also the plain loop over the same model objects
  double soak_minutes = 0;  // > 0: a soak run instead of the sweep
  std::vector<std::string> transports{"rtp", "srt"};  // --mode network
  std::vector<int> srt_latency_ms{120};
  std::vector<std::string> netns;        // --mode network: sender's, receiver's
  std::string receiver_address, netsim;  // --mode network: "15-25,0.01"
  std::string json_path, csv_path, trace_path, plot_path;
};

struct RunConfig {
  std::string encoder, decoder, device, tiles;
  int batch = 0, threads = 0;  // 0: auto (stages/line.h, kAutoBatch, ThreadPlan)
  std::string precision = "auto", graphs = "off";  // auto: stages/line.h, PrecisionPlan
  int workers = 0;                                 // decode workers; 0: auto
  std::string modules = "optimized";               // or as-trained (models/modules.h)
};

double encoder_flops(const EncoderInfo& e) {
  if (e.architecture != "cnn") return 0;  // the retina's DoG convolutions: not counted
  CnnEncoderConfig c;
  c.channels = e.meta.at("config").value("channels", 16);
  c.image_size = e.image_size;
  c.n_cells = e.n_cells;
  return cnn_encoder_flops_per_frame(c);
}

double decoder_flops(const DecoderInfo& d) {
  if (d.architecture == "sid") return sid_flops_per_frame(d.n_inputs);
  if (d.architecture == "sid-lite")
    return sid_lite_flops_per_frame(d.n_inputs, d.meta.value("width", kSidLiteWidth),
                                    has_ridge_path(d.meta),
                                    sid_lite_refine_from_meta(d.meta, "decoder"));
  if (d.architecture == "sid-lite-gru")
    return sid_lite_gru_flops_per_frame(
        d.n_inputs, d.meta.value("width", kSidLiteWidth), has_ridge_path(d.meta),
        d.meta.contains("temporal") ? d.meta["temporal"].value("hidden", kSidLiteGruHidden)
                                    : kSidLiteGruHidden,
        sid_lite_refine_from_meta(d.meta, "decoder"));
  if (d.architecture == "linear") return 2.0 * d.n_inputs * d.image_size * d.image_size;
  if (d.architecture == "linear-multi" && d.meta.contains("temporal"))
    return 2.0 * d.n_inputs * d.meta["temporal"].value("windows", 1) * d.image_size * d.image_size;
  return 0;
}

// The peak with `threads` threads, measured once per thread count, device and
// precision (this VM's speed wanders: one product alone varied by 2×), each the
// best of eight calls after a first:
//   matmul: n×n products (2048 on a CPU, 8192 on a GPU); on this CPU float32
//           runs on OpenBLAS, bfloat16 on oneDNN;
//   conv:   on a CPU, a 3×3 convolution of 256 to 256 channels on 8×32×32,
//           which oneDNN runs, as it runs the models' convolutions (in float32
//           it beats OpenBLAS's product, so SID showed "171 % of peak").
// The peak a model's FLOP/s is judged against is the larger.
struct Peak {
  double matmul = 0, conv = 0;
  double best() const { return std::max(matmul, conv); }
};

double best_rate(const std::function<torch::Tensor()>& call, double flops) {
  double best = 0;
  for (int i = 0; i < 9; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)call().sum().item<double>();  // waits for the device
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) best = std::max(best, flops / s);
  }
  return best;
}

Peak measure_peak(int threads, const std::string& device, const std::string& precision) {
  static std::map<std::tuple<int, std::string, std::string>, Peak> measured;
  const auto key = std::make_tuple(threads, device, precision);
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  torch::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const bool gpu = torch::Device(device).is_cuda();
  const int64_t n = gpu ? 8192 : 2048;
  const auto opts =
      torch::TensorOptions().device(torch::Device(device)).dtype(parse_precision(precision));
  Peak p;
  {
    auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
    p.matmul = best_rate([&] { return torch::mm(a, b); }, 2.0 * n * n * n);
  }
  if (!gpu) {
    auto x = torch::randn({8, 256, 32, 32}, opts), w = torch::randn({256, 256, 3, 3}, opts);
    p.conv =
        best_rate([&] { return torch::conv2d(x, w, {}, 1, 1); }, 2.0 * 8 * 256 * 256 * 9 * 32 * 32);
  }
  measured[key] = p;
  return p;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

nlohmann::json stats_json(const LatencyStats& s) {
  return {{"count", s.count},     {"p50_ms", s.p50_ms}, {"p90_ms", s.p90_ms},  {"p99_ms", s.p99_ms},
          {"p999_ms", s.p999_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

std::string machine_cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// The largest absolute pixel difference between the run's reconstruction (on
// its device, in its precision) and the CPU's in float32 of the same spike
// counts: the encoder's, on the CPU, of `input`. Once per decoder, device and
// precision.
double difference_from_cpu_float32(const RunConfig& rc, Encoder& encoder,
                                   const torch::Tensor& input) {
  static std::map<std::tuple<std::string, std::string, std::string>, double> measured;
  const auto key = std::make_tuple(rc.decoder, rc.device, rc.precision);
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  const auto counts = encoder.spikes(input.to(torch::Device(rc.device))).cpu();
  auto on_cpu = load_decoder(rc.decoder, encoder.info(), torch::kCPU);
  auto on_gpu = load_decoder(rc.decoder, encoder.info(), torch::Device(rc.device));
  if (rc.precision != "float32") on_gpu->set_precision(parse_precision(rc.precision));
  const double d =
      (on_gpu->decode(counts.to(torch::Device(rc.device))).cpu() - on_cpu->decode(counts))
          .abs()
          .max()
          .item<double>();
  measured[key] = d;
  return d;
}

// The line a run measures: live's (realtime) or transcode's (offline), with
// the view and a null sink; the source synthetic or any other.
LineConfig line_config(const BenchArgs& a, const RunConfig& rc, std::int64_t frames) {
  const bool realtime = a.mode == "realtime";
  LineConfig c;
  c.source = a.source == "synthetic" ? SourceKind::synthetic : SourceKind::video;
  c.input = a.source;
  c.synthetic.frames = frames;
  c.synthetic.pace_fps = realtime ? a.fps : 0;
  c.max_frames = frames;
  c.tiles = parse_tile_grid(rc.tiles);
  c.encode.encoder = rc.encoder;
  c.decoder.decoder = rc.decoder;
  c.decoder.modules = rc.modules == "as-trained" ? Modules::as_trained : Modules::optimized;
  c.view = a.view == "none"             ? View::none
           : a.view == "reconstruction" ? View::reconstruction
                                        : View::side_by_side;
  c.sink = SinkKind::null;
  c.device = parse_device(rc.device);
  c.precision = parse_precision_or_auto(rc.precision);
  c.cuda_graphs = rc.graphs == "on";
  c.batch = rc.batch;
  c.threads = rc.threads;
  c.decode_workers = rc.workers;
  c.pacing = realtime ? Pacing::live : Pacing::offline;
  c.capacity = static_cast<std::size_t>(std::max(4, 2 * rc.batch));
  c.warmup = a.warmup;
  c.stop_flag = &stop_flag();
  return c;
}

struct RunResult {
  nlohmann::json json;
  std::vector<double> e2e_ms;  // per frame at the sink, in order, warm-up included
};

// The models' first calls allocate and pick kernels: done before the clock
// starts, as a live system would, so no first-frame stall drops frames.
void warm_up(Line& line, const std::vector<GrayImage>& pool, int batch) {
  std::vector<FramePtr> frames;
  for (int i = 0; i < batch; ++i) {
    auto c = std::make_unique<Captured>();
    c->image = pool[static_cast<std::size_t>(i) % pool.size()];
    frames.push_back(line.preprocess()->process(std::move(c)));
  }
  (void)line.decode_stage()->process_batch(line.encode_stage()->process_batch(std::move(frames)));
}

RunResult run_one(const BenchArgs& a, const RunConfig& setting, const std::string& trace_path,
                  std::ostream& log) {
  const bool realtime = a.mode == "realtime";
  const std::int64_t frames = a.frames > 0 ? a.frames : realtime ? 300 : 600;
  RunConfig rc = setting;  // its autos resolved once the line has chosen
  const bool cuda = rc.device == "cuda";
  torch::set_num_threads(std::max(1, rc.threads));
  auto config = line_config(a, rc, frames);
  std::vector<double> e2e;
  e2e.reserve(static_cast<std::size_t>(frames));
  config.on_output = [&](const FrameMeta& m) {
    e2e.push_back(1e-6 * static_cast<double>(now_ns() - m.capture_ns));
  };
  Line line(config);
  rc.batch = line.batch();
  if (rc.precision == "auto") rc.precision = to_string(line.precision_plan().decoder);
  const ThreadPlan& plan = line.thread_plan();
  const int stage_threads = plan.decode_threads;  // per decode worker
  const TileGrid grid = line.grid();
  const auto& enc_info = line.encoder_info();
  const auto pool = synthetic_frames(grid);
  warm_up(line, pool, rc.batch);
  EncodeStage& encode = *line.encode_stage();
  DecodeStage& decode = *line.decode_stage();
  const ModelTime enc_before = encode.model_time(), dec_before = decode.model_time();
  const auto enc_gpu_before = encode.gpu_ms().size(), dec_gpu_before = decode.gpu_ms().size();

  const double cpu0 = cpu_seconds();
  const auto r = line.run();
  const double wall = r.wall_s;
  const double cpu = cpu_seconds() - cpu0;
  const auto summary = line.recorder().summary();
  write_latency_reports(line.recorder(), {"", "", trace_path});
  // The line's model time (GPU time on the CUDA path), before the sequential run adds its own.
  ModelTime enc_time = encode.model_time(), dec_time = decode.model_time();
  enc_time.seconds -= enc_before.seconds;
  enc_time.frames -= enc_before.frames;
  dec_time.seconds -= dec_before.seconds;
  dec_time.frames -= dec_before.frames;
  auto enc_gpu = encode.gpu_ms(), dec_gpu = decode.gpu_ms();
  enc_gpu.erase(enc_gpu.begin(), enc_gpu.begin() + static_cast<long>(enc_gpu_before));
  dec_gpu.erase(dec_gpu.begin(), dec_gpu.begin() + static_cast<long>(dec_gpu_before));

  // The same stages one after another on one thread, on the same frames, same batch.
  double sequential_fps = 0;
  if (!a.no_sequential && a.source == "synthetic") {
    torch::set_num_threads(stage_threads);
#ifdef SPIKEVID_HAVE_IO
    ComposeStage* compose = line.compose_stage();
#endif
    const std::int64_t n = std::min<std::int64_t>(frames, cuda ? 2000 : 200);
    const auto s0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; i += rc.batch) {
      std::vector<FramePtr> batch;
      for (std::int64_t j = i; j < std::min(n, i + rc.batch); ++j) {
        auto c = std::make_unique<Captured>();
        c->image = pool[static_cast<std::size_t>(j) % pool.size()];
        batch.push_back(line.preprocess()->process(std::move(c)));
      }
      auto out = decode.process_batch(encode.process_batch(std::move(batch)));
#ifdef SPIKEVID_HAVE_IO
      if (compose)
        for (auto& x : out) (void)compose->process(std::move(x));
#endif
    }
    sequential_fps = static_cast<double>(n) /
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
  }
  // The plain loop a user would write over the same model objects: encoder,
  // spikes, decoder, one batch after another, on every core's thread (no
  // stages, no channels, no view).
  double peer_fps = 0;
  const int all_cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (a.peer && a.source == "synthetic") {
    torch::set_num_threads(all_cores);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> inputs;
    for (const auto& image : pool) {
      auto c = std::make_unique<Captured>();
      c->image = image;
      inputs.push_back(line.preprocess()->process(std::move(c))->tiles);
    }
    const auto device = torch::Device(rc.device);
    const auto run_batch = [&](std::int64_t i, std::int64_t count) {
      std::vector<torch::Tensor> xs;
      for (std::int64_t j = i; j < i + count; ++j)
        xs.push_back(inputs[static_cast<std::size_t>(j) % inputs.size()]);
      auto images = torch::cat(xs).to(device);
      return decode.decoder().decode(encode.encoder().spikes(images)).to(torch::kCPU);
    };
    for (int w = 0; w < 3; ++w) run_batch(0, rc.batch);  // warm-up
    const std::int64_t n = std::min<std::int64_t>(frames, cuda ? 2000 : 400);
    const auto s0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; i += rc.batch)
      run_batch(i, std::min<std::int64_t>(rc.batch, n - i));
    peer_fps = static_cast<double>(n) /
               std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    torch::set_num_threads(stage_threads);
  }
  const std::int64_t emitted = r.frames_in;

  const Peak peaks = measure_peak(stage_threads, rc.device, rc.precision);
  const double peak = peaks.best();
  const double peak_all = cuda ? peak : measure_peak(all_cores, rc.device, rc.precision).best();
  const double enc_f = encoder_flops(enc_info);
  const double dec_f = decoder_flops(decode.decoder().info());
  const int tiles = grid.rows * grid.cols;
  // Achieved FLOP/s: the FLOPs of every frame a model stage computed in the
  // run over the time its model calls took.
  auto achieved = [&](double flops, const ModelTime& m) {
    return m.seconds > 0 ? flops * tiles * static_cast<double>(m.frames) / m.seconds : 0.0;
  };
  const double fps = summary.fps;
  nlohmann::json j;
  j["config"] = {
      {"mode", a.mode},
      {"source", a.source},
      {"frames", frames},
      {"warmup", a.warmup},
      {"fps_in", realtime ? a.fps : 0.0},
      {"encoder", rc.encoder},
      {"decoder", rc.decoder},
      {"decoder_architecture", decode.decoder().info().architecture},
      {"device", rc.device},
      {"tiles", rc.tiles},
      {"batch", rc.batch},
      {"precision", rc.precision},
      {"precision_setting", setting.precision},
      {"precision_plan", line.precision_plan().describe()},
      {"batch_setting", setting.batch > 0 ? nlohmann::json(setting.batch) : nlohmann::json("auto")},
      {"cuda_graphs", rc.graphs == "on"},
      {"modules", rc.modules},
      {"view", a.view},
      {"sink", "null"},
      {"threads", rc.threads > 0 ? nlohmann::json(rc.threads) : nlohmann::json("auto")},
      {"threads_per_model_stage", stage_threads},
      {"encode_threads", plan.encode_threads},
      {"decode_workers", plan.decode_workers}};
  j["stage_names"] = line.stage_names();
  j["fps"] = fps;
  j["sequential_fps"] = sequential_fps;
  j["efficiency"] = sequential_fps > 0 ? fps / sequential_fps : 0.0;
  if (peer_fps > 0) {
    j["peer"] = {{"fps", peer_fps}, {"threads", all_cores}, {"line_to_peer", fps / peer_fps}};
  }
  j["end_to_end"] = stats_json(summary.end_to_end);
  j["stages"] = nlohmann::json::array();
  for (const auto& st : summary.stages)
    j["stages"].push_back({{"name", st.name},
                           {"service", stats_json(st.service)},
                           {"queue_wait", stats_json(st.queue_wait)},
                           {"p50_ms", st.service.p50_ms},
                           {"p90_ms", st.service.p90_ms},
                           {"p99_ms", st.service.p99_ms},
                           {"p999_ms", st.service.p999_ms},
                           {"max_ms", st.service.max_ms},
                           {"mean_ms", st.service.mean_ms}});
  j["drops"] = nlohmann::json::object();
  for (const auto& e : summary.edges) j["drops"][e.name] = e.stats.dropped;
  if (!std::isnan(r.mean_ssim))
    j["reconstruction"] = {{"mean_ssim", r.mean_ssim}, {"mean_psnr_db", r.mean_psnr}};
  j["frames_in"] = emitted;
  j["frames_out"] = e2e.size();
  j["cpu"] = {{"seconds", cpu},
              {"wall_seconds", wall},
              {"cores_used", wall > 0 ? cpu / wall : 0},
              {"peak_rss_mb", peak_rss_mb()}};
  j["compute"] = {{"peak_gflops", peak / 1e9},
                  {"matmul_peak_gflops", peaks.matmul / 1e9},
                  {"conv_peak_gflops", peaks.conv / 1e9},
                  {"peak_gflops_all_cores", peak_all / 1e9},
                  {"encoder_mflop_per_frame", enc_f * tiles / 1e6},
                  {"decoder_mflop_per_frame", dec_f * tiles / 1e6},
                  {"encoder_gflops", achieved(enc_f, enc_time) / 1e9},
                  {"decoder_gflops", achieved(dec_f, dec_time) / 1e9},  // per worker thread
                  // The line's decoder throughput, all workers together.
                  {"decoder_gflops_line", dec_f * tiles * fps / 1e9},
                  {"decoder_fraction_of_peak", peak > 0 ? achieved(dec_f, dec_time) / peak : 0},
                  {"model_time", cuda && !dec_gpu.empty() ? "gpu (CUDA events)" : "wall clock"}};
  double diff = 0;  // from the CPU's float32 reconstruction
  if (cuda || rc.precision != "float32") {
    const torch::Tensor fixed_input = line.preprocess()
                                          ->process([&] {
                                            auto c = std::make_unique<Captured>();
                                            c->image = pool.front();
                                            return c;
                                          }())
                                          ->tiles;
    diff = difference_from_cpu_float32(rc, encode.encoder(), fixed_input);
    j["max_abs_diff_vs_cpu_float32"] = diff;
  }
  if (cuda)
    j["gpu"] = {{"device", describe_gpu(rc.device)},
                {"cuda_path", have_cuda_path()},
                {"encode_gpu_ms", stats_json(compute_latency_stats(enc_gpu))},
                {"decode_gpu_ms", stats_json(compute_latency_stats(dec_gpu))},
                {"max_abs_diff_vs_cpu", diff}};
  log << "bench: " << rc.decoder << " " << rc.tiles << " batch " << rc.batch
      << (line.batch_auto() ? " (auto)" : "") << ", " << plan.describe() << ", " << rc.device;
  if (cuda || rc.precision != "float32" || setting.precision == "auto")
    log << ", " << line.precision_plan().describe();
  if (cuda && rc.graphs == "on") log << " CUDA graphs";
  if (rc.modules != "optimized") log << ", modules " << rc.modules;
  log << ", " << a.mode << ": " << std::fixed << std::setprecision(1) << fps << " frames/s";
  if (sequential_fps > 0)
    log << " (one thread, one stage after another: " << sequential_fps << "; efficiency "
        << std::setprecision(2) << fps / sequential_fps << ")";
  log << "\n";
  if (peer_fps > 0)
    log << "peer: the plain loop over the same models (" << all_cores
        << " thread(s), no stages): " << std::setprecision(1) << peer_fps
        << " frames/s; the line is " << std::setprecision(2) << fps / peer_fps << " times it\n";
  write_table(log, summary);
  log << std::setprecision(2) << "compute: " << decode.decoder().info().architecture << " "
      << j["compute"]["decoder_gflops"].get<double>() << " GFLOP/s of a " << peak / 1e9
      << " GFLOP/s peak with " << stage_threads << " thread(s) ("
      << 100 * j["compute"]["decoder_fraction_of_peak"].get<double>() << " % per worker; "
      << j["compute"]["decoder_gflops_line"].get<double>() << " GFLOP/s on all "
      << plan.decode_workers << " worker(s); matrix product " << peaks.matmul / 1e9;
  if (peaks.conv > 0) log << ", 3x3 convolution " << peaks.conv / 1e9;
  log << "; all cores: " << peak_all / 1e9 << "); CPU " << cpu / std::max(wall, 1e-9)
      << " cores; peak memory " << std::setprecision(0) << peak_rss_mb() << " MB\n";
  if (cuda)
    log << std::setprecision(3) << "gpu: " << j["gpu"]["device"].get<std::string>()
        << "; GPU time per batch: encode p50 " << j["gpu"]["encode_gpu_ms"]["p50_ms"].get<double>()
        << " ms, decode p50 " << j["gpu"]["decode_gpu_ms"]["p50_ms"].get<double>() << " ms, p99 "
        << j["gpu"]["decode_gpu_ms"]["p99_ms"].get<double>()
        << " ms; largest pixel difference from "
        << "the CPU's reconstruction " << std::scientific << std::setprecision(2)
        << j["gpu"]["max_abs_diff_vs_cpu"].get<double>() << std::fixed << "\n";
  else if (rc.precision != "float32")
    log << "precision: largest pixel difference from the float32 reconstruction " << std::scientific
        << std::setprecision(2) << diff << std::fixed << "\n";
  log << "\n";
  return {j, std::move(e2e)};
}

double rss_mb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1048576.0;
}

// Live's line (paced synthetic frames, compose, a null sink, the latency
// recorder on: its memory is bounded too) for `minutes`: resident memory
// every second, the longest gap between frames at the sink (a stall), and a
// watchdog that stops the run if no frame arrives for 10 s (a deadlock would
// end it there).
nlohmann::json run_soak(const BenchArgs& a, std::ostream& log) {
  const RunConfig rc{a.encoders.front(), a.decoders.front(), a.devices.front(),    a.tiles.front(),
                     a.batches.front(),  a.threads.front(),  a.precisions.front(), a.graphs.front(),
                     a.workers.front(),  a.modules.front()};
  const auto frames = static_cast<std::int64_t>(a.soak_minutes * 60 * a.fps);
  torch::set_num_threads(std::max(1, rc.threads));
  BenchArgs realtime = a;
  realtime.mode = "realtime";
  auto config = line_config(realtime, rc, frames);
  std::vector<double> e2e(static_cast<std::size_t>(frames) + 1);
  std::atomic<std::int64_t> received{0}, last_ns{now_ns()};
  std::int64_t max_gap_ns = 0, gaps_over_1s = 0, prev_ns = 0;
  config.on_output = [&](const FrameMeta& m) {
    const std::int64_t t = now_ns();
    const auto i = received.load();
    if (i < static_cast<std::int64_t>(e2e.size()))
      e2e[static_cast<std::size_t>(i)] = 1e-6 * static_cast<double>(t - m.capture_ns);
    if (i > static_cast<std::int64_t>(a.warmup)) {
      max_gap_ns = std::max(max_gap_ns, t - prev_ns);
      if (t - prev_ns > 1000000000) ++gaps_over_1s;
    }
    prev_ns = t;
    last_ns.store(t);
    received.store(i + 1);
  };
  Line p(config);
  warm_up(p, synthetic_frames(p.grid()), p.batch());
  // Memory every second; the watchdog beside it.
  std::vector<double> rss;
  rss.reserve(static_cast<std::size_t>(a.soak_minutes * 60) + 16);
  std::atomic<bool> done{false}, watchdog_fired{false};
  std::thread sampler([&] {
    while (!done.load()) {
      for (int i = 0; i < 10 && !done.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (done.load()) break;
      if (rss.size() < rss.capacity()) rss.push_back(rss_mb());
      if (now_ns() - last_ns.load() > 10'000'000'000LL) {
        watchdog_fired.store(true);
        p.stop();
      }
    }
  });
  log << "soak: " << a.soak_minutes << " min at " << a.fps << " frames/s (" << frames
      << " frames), live's line (" << a.view << " view, null sink), " << rc.decoder << ", "
      << p.precision_plan().describe() << ", " << p.thread_plan().describe() << "\n";
  LineResult result;
  try {
    result = p.run();
  } catch (...) {
    done.store(true);
    sampler.join();
    throw;
  }
  done.store(true);
  sampler.join();
  const std::int64_t emitted = result.frames_in;
  // Memory after warm-up: the sample at one minute (or a quarter of a short run).
  const std::size_t warm = std::min<std::size_t>(rss.size() ? rss.size() - 1 : 0,
                                                 a.soak_minutes >= 4 ? 60 : rss.size() / 4);
  const double rss_warm = rss.empty() ? 0 : rss[warm], rss_end = rss.empty() ? 0 : rss.back();
  double rss_max_after = rss_warm;
  for (std::size_t i = warm; i < rss.size(); ++i) rss_max_after = std::max(rss_max_after, rss[i]);
  const auto n = static_cast<std::size_t>(received.load());
  std::vector<double> kept(e2e.begin() + static_cast<long>(std::min(n, a.warmup)),
                           e2e.begin() + static_cast<long>(n));
  const auto lat = compute_latency_stats(kept);
  nlohmann::json j = {{"minutes", a.soak_minutes},
                      {"fps_in", a.fps},
                      {"frames_in", emitted},
                      {"frames_out", n},
                      {"dropped", emitted - static_cast<std::int64_t>(n)},
                      {"rss_mb_after_warmup", rss_warm},
                      {"rss_mb_end", rss_end},
                      {"rss_mb_max_after_warmup", rss_max_after},
                      {"rss_growth_mb", rss_end - rss_warm},
                      {"max_gap_ms", 1e-6 * static_cast<double>(max_gap_ns)},
                      {"gaps_over_1s", gaps_over_1s},
                      {"watchdog_stopped_it", watchdog_fired.load()},
                      {"stage_names", p.stage_names()},
                      {"latency", nlohmann::json::parse([&] {
                         std::ostringstream text;
                         write_json(text, p.recorder().summary());
                         return text.str();
                       }())},
                      {"end_to_end", stats_json(lat)},
                      {"rss_mb_every_second", rss}};
  log << std::fixed << std::setprecision(2) << "soak: " << n << " of " << emitted
      << " frames reached the sink; resident memory " << rss_warm << " MB after warm-up, "
      << rss_end << " MB at the end (growth " << rss_end - rss_warm << " MB, highest "
      << rss_max_after << "); longest gap between frames " << 1e-6 * static_cast<double>(max_gap_ns)
      << " ms, " << gaps_over_1s << " over 1 s; end to end p50 " << lat.p50_ms << " ms, p99 "
      << lat.p99_ms << " ms"
      << (watchdog_fired.load() ? "; STOPPED BY THE WATCHDOG (no frame for 10 s)" : "") << "\n";
  if (watchdog_fired.load()) throw std::runtime_error("soak: no frame reached the sink for 10 s");
  return j;
}

void run_bench(BenchArgs& a) {
  (void)resolve_device(a.common);  // threads and device checks
  for (const auto& d : a.devices)
    if (d == "cuda" && !torch::cuda::is_available())
      throw std::runtime_error("--device cuda: no CUDA device (or this LibTorch has no CUDA)");
    else if (d != "cpu" && d != "cuda")
      throw UsageError("--device: expected cpu or cuda, got '" + d + "'");
  for (const auto& t : a.tiles) try {
      parse_tile_grid(t);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  if (a.mode != "offline" && a.mode != "realtime" && a.mode != "network")
    throw UsageError("--mode: expected offline, realtime or network, got '" + a.mode + "'");
  if (a.mode == "network") {
#ifdef SPIKEVID_HAVE_IO
    if (a.source == "synthetic")
      throw UsageError(
          "--mode network: give --source a video file (the spikes and H.264 of its frames)");
    for (const auto& t : a.transports)
      if (t != "rtp" && t != "srt")
        throw UsageError("--transport: expected rtp or srt, got '" + t + "'");
    NetworkBenchArgs n;
    n.source = a.source;
    n.encoder = a.encoders.front();
    n.tiles = a.tiles.front();
    n.transports = a.transports;
    n.srt_latency_ms = a.srt_latency_ms;
    n.fps = a.fps;
    n.frames = a.frames > 0 ? a.frames : 300;
    n.warmup = a.warmup;
    if (!a.netns.empty()) {
      if (a.netns.size() != 2)
        throw UsageError("--netns: give two network namespaces, the sender's and the receiver's");
      n.sender_netns = a.netns[0];
      n.receiver_netns = a.netns[1];
      if (a.receiver_address.empty())
        throw UsageError(
            "--netns: give --receiver-address, the receiver's address as the "
            "sender reaches it");
    }
    if (!a.receiver_address.empty()) n.receiver_address = a.receiver_address;
    if (!a.netsim.empty()) try {
        stream::RelayConfig rc;
        stream::parse_netsim(a.netsim, rc);
        n.netsim_min_ms = rc.min_delay_ms;
        n.netsim_max_ms = rc.max_delay_ms;
        n.netsim_loss = rc.loss;
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    try {
      parse_tile_grid(n.tiles);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (!a.json_path.empty()) check_outputs({a.json_path}, {a.source});
    auto j = run_network_bench(n, std::cout);
    j["command"] = command_line();
    j["machine"] = {{"cpu", machine_cpu()}, {"cores", std::thread::hardware_concurrency()}};
    if (!a.json_path.empty())
      write_output_file(a.json_path, [&](std::ostream& out) {
        out << nlohmann::json{{"network", j}}.dump(2) << "\n";
      });
    return;
#else
    throw UsageError("--mode network: this LibTorch-only build has no GStreamer");
#endif
  }
  for (int b : a.batches)
    if (b > 1 && (a.mode == "realtime" || a.soak_minutes > 0))
      throw UsageError("--batch " + std::to_string(b) +
                       ": the realtime line (live's) keeps only the newest frame on every edge, "
                       "so a model stage never finds more than one waiting; batches are for "
                       "--mode offline");
  const bool any_cpu = std::find(a.devices.begin(), a.devices.end(), "cpu") != a.devices.end();
  for (const auto& p : a.precisions)
    if (p != "auto" && p != "float32" && p != "float16" && p != "bfloat16")
      throw UsageError("--precision: expected auto, float32, float16 or bfloat16, got '" + p + "'");
    else if (p == "float16" && any_cpu)
      throw UsageError("--precision float16: half precision needs --device cuda alone");
  for (const auto& g : a.graphs)
    if (g != "off" && g != "on")
      throw UsageError("--cuda-graphs: expected off or on, got '" + g + "'");
    else if (g == "on" && any_cpu)
      throw UsageError("--cuda-graphs on: CUDA graphs need --device cuda alone");
    else if (g == "on" && !have_cuda_path())
      throw std::runtime_error("--cuda-graphs on: this build has no CUDA path (a CPU LibTorch)");
#ifndef SPIKEVID_HAVE_IO
  if (a.view != "none") throw UsageError("--view: this LibTorch-only build has --view none only");
  if (a.source != "synthetic")
    throw UsageError("--source: this LibTorch-only build has synthetic frames only");
  if (!a.plot_path.empty())
    throw UsageError("--plot: this LibTorch-only build has no OpenCV to draw with");
#endif
  if (a.soak_minutes == 0 && a.frames > 0 && a.frames <= static_cast<std::int64_t>(a.warmup))
    throw UsageError("--frames " + std::to_string(a.frames) +
                     ": every frame would be warm-up (--warmup " + std::to_string(a.warmup) +
                     "); give more frames or a shorter warm-up");
  if (a.soak_minutes > 0) {
    auto j = run_soak(a, std::cout);
    j["machine"] = {{"cpu", machine_cpu()},
                    {"cores", std::thread::hardware_concurrency()},
                    {"libtorch", TORCH_VERSION}};
    j["command"] = command_line();
    if (!a.json_path.empty())
      write_output_file(a.json_path, [&](std::ostream& out) {
        out << nlohmann::json{{"soak", j}}.dump(2) << "\n";
      });
    return;
  }
  std::vector<RunConfig> runs;
  for (const auto& dev : a.devices)
    for (const auto& enc : a.encoders)
      for (const auto& dec : a.decoders)
        for (const auto& t : a.tiles)
          for (int b : a.batches)
            for (int th : a.threads)
              for (const auto& prec : a.precisions)
                for (const auto& g : a.graphs)
                  for (int w : a.workers)
                    for (const auto& m : a.modules)
                      runs.push_back(RunConfig{enc, dec, dev, t, b, th, prec, g, w, m});
  // The peaks first, before any pipeline has warmed or loaded the machine.
  for (const auto& rc : runs) {
    if (rc.precision == "auto") continue;  // known once the line has chosen: measured then
    (void)measure_peak(std::max(1, rc.threads), rc.device, rc.precision);
    if (rc.device == "cpu")
      (void)measure_peak(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), "cpu",
                         rc.precision);
  }
  nlohmann::json all = nlohmann::json::array();
  std::vector<std::vector<double>> e2es;
  for (std::size_t i = 0; i < runs.size() && !stop_requested(); ++i) {
    RunResult r;
    try {
      r = run_one(a, runs[i], i == 0 ? a.trace_path : std::string(), std::cout);
    } catch (const std::invalid_argument& e) {  // settings that do not go together
      throw UsageError(e.what());
    }
    all.push_back(r.json);
    e2es.push_back(std::move(r.e2e_ms));
  }
  if (all.empty()) return;
  if (a.peer) {
    std::cout
        << "\nthe line against the plain loop over the same models, per setting:\n"
        << "| decoder | tiles | batch | threads per stage | decode workers | precision | line "
           "frames/s | loop frames/s | line / loop |\n| --- | --- | --- | --- | --- | --- | ---: | "
           "---: | ---: |\n";
    for (const auto& r : all) {
      if (!r.contains("peer")) continue;
      const auto& c = r["config"];
      std::cout << std::fixed << "| " << c["decoder"].get<std::string>() << " | "
                << c["tiles"].get<std::string>() << " | " << c["batch"].get<int>() << " | "
                << c["threads_per_model_stage"].get<int>() << " | "
                << c["decode_workers"].get<int>() << " | " << c["precision"].get<std::string>()
                << " | " << std::setprecision(1) << r["fps"].get<double>() << " | "
                << r["peer"]["fps"].get<double>() << " | " << std::setprecision(2)
                << r["peer"]["line_to_peer"].get<double>() << " |\n";
    }
  }
  nlohmann::json top = all[0];
  top["runs"] = all;
  top["machine"] = {
      {"cpu", machine_cpu()},          {"cores", std::thread::hardware_concurrency()},
      {"libtorch", TORCH_VERSION},     {"cuda_available", torch::cuda::is_available()},
      {"cuda_path", have_cuda_path()}, {"gpu", describe_gpu("cuda")}};
  top["command"] = command_line();
  if (!a.json_path.empty())
    write_output_file(a.json_path, [&](std::ostream& out) { out << top.dump(2) << "\n"; });
  if (!a.csv_path.empty())
    write_output_file(a.csv_path, [&](std::ostream& out) {
      out << "run,decoder,tiles,batch,threads,device,precision,cuda_graphs,mode,stage,p50_ms,p90_"
             "ms,"
             "p99_ms,p999_ms,max_ms,mean_ms,fps,efficiency\n";
      for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& r = all[i];
        const auto& c = r["config"];
        auto row = [&](const std::string& stage, const nlohmann::json& s) {
          out << i << ',' << c["decoder"].get<std::string>() << ',' << c["tiles"].get<std::string>()
              << ',' << c["batch"] << ',' << c["threads_per_model_stage"] << ','
              << c["device"].get<std::string>() << ',' << c["precision"].get<std::string>() << ','
              << (c["cuda_graphs"].get<bool>() ? "on" : "off") << ','
              << c["mode"].get<std::string>() << ',' << stage << ',' << s["p50_ms"] << ','
              << s["p90_ms"] << ',' << s["p99_ms"] << ',' << s["p999_ms"] << ',' << s["max_ms"]
              << ',' << s["mean_ms"] << ',' << r["fps"] << ',' << r["efficiency"] << '\n';
        };
        for (const auto& s : r["stages"]) row(s["name"].get<std::string>(), s);
        row("end_to_end", r["end_to_end"]);
      }
    });
#ifdef SPIKEVID_HAVE_IO
  if (!a.plot_path.empty())
    for (std::size_t i = 0; i < e2es.size(); ++i) {
      std::string path = a.plot_path;
      if (i > 0)
        path.insert(path.rfind('.') == std::string::npos ? path.size() : path.rfind('.'),
                    "-" + std::to_string(i));
      const auto& c = all[i]["config"];
      write_latency_plot(path, e2es[i], a.warmup,
                         c["decoder_architecture"].get<std::string>() + " " +
                             c["tiles"].get<std::string>() + ", batch " +
                             std::to_string(c["batch"].get<int>()) + ", " + a.mode);
    }
#else
  (void)e2es;
#endif
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* c = app.add_subcommand("bench", "Measure the pipeline: latency, throughput, FLOP/s");
  c->option_defaults()->always_capture_default();
  c->footer(
      "List options (comma-separated) sweep: every combination runs in turn.\n"
      "Examples:\n"
      "  spikevid bench                                  (offline, 64x64, SID, batch 1)\n"
      "  spikevid bench --mode realtime --fps 30 --json out/rt.json --plot out/rt.png\n"
      "  spikevid bench --batch 1,8 --threads 1,2 --decoder models/weights/sid-natural.svm,"
      "models/weights/sid-lite-natural.svm\n"
      "  spikevid bench --tiles 1x1,2x2,3x4 --source data/video/vtest.avi\n"
      "  spikevid bench --mode network --source data/video/vtest.avi --tiles 3x4 --srt-latency "
      "20,120\n"
      "  spikevid bench --device cuda --batch 1,8,64 --precision float32,float16 --cuda-graphs "
      "off,on");
  c->add_option("--mode", a->mode,
                "offline (as fast as possible, lossless), realtime (paced, keep_latest), or "
                "network (the spike stream over loopback: bytes/s against H.264, added latency)")
      ->check(CLI::IsMember({"offline", "realtime", "network"}));
  c->add_option("--transport", a->transports, "network: rtp, srt")
      ->delimiter(',')
      ->check(CLI::IsMember({"rtp", "srt"}));
  c->add_option("--srt-latency", a->srt_latency_ms, "network: SRT latencies (ms) to measure")
      ->delimiter(',')
      ->check(CLI::Range(0, 10000));
  c->add_option("--netns", a->netns,
                "network: SENDER,RECEIVER network namespaces (ip netns add; needs root)")
      ->delimiter(',');
  c->add_option("--receiver-address", a->receiver_address,
                "network: the receiver's address as the sender reaches it (default 127.0.0.1)");
  c->add_option("--netsim", a->netsim,
                "network: a relay beside the receiver delays each datagram by MIN-MAX ms and "
                "drops a fraction LOSS, each way (GStreamer's netsim), e.g. 15-25,0.01");
  c->add_option("--source", a->source, "synthetic, or any source (file, test, webcam, gst:...)");
  c->add_option("--fps", a->fps, "realtime: frames per second in")
      ->check(CLI::Range(0.1, 100000.0));
  c->add_option("--frames", a->frames, "frames per run (0: 600 offline, 300 realtime)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 32));
  c->add_option("--warmup", a->warmup, "frames left out of the statistics")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--tiles", a->tiles, "tile grids, e.g. 1x1,2x2,8x8")->delimiter(',');
  c->add_option("--batch", a->batches, "micro-batch sizes; auto: 8 offline, 1 realtime")
      ->delimiter(',')
      ->check(not_zero)
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 1024))
      ->default_str("auto");
  c->add_option("--threads", a->threads,
                "LibTorch threads per model stage (per decode worker); auto: split the cores by "
                "the stages' measured costs")
      ->delimiter(',')
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 1024))
      ->default_str("auto");
  c->add_option("--decode-workers", a->workers,
                "threads that run the decode stage on alternate batches (CPU), each with "
                "--threads LibTorch threads; auto: as --threads auto splits the cores, else 1")
      ->delimiter(',')
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 64))
      ->default_str("auto");
  c->add_option("--device", a->devices, "cpu, cuda")->delimiter(',');
  c->add_option("--precision", a->precisions,
                "auto (per model, as the video commands); float32; float16 (CUDA: the decoder); "
                "bfloat16 (both models; AMX or AVX512-BF16 on a CPU)")
      ->delimiter(',');
  c->add_option("--cuda-graphs", a->graphs,
                "off, on: the decoder's forward pass as a CUDA graph (CUDA path)")
      ->delimiter(',');
  c->add_option("--modules", a->modules,
                "optimized (the default: BatchNorm folded, no dropout, channels-last "
                "convolutions on the CPU), as-trained (the decoder's modules as its file holds "
                "them): to measure what the load-time optimizations gain")
      ->delimiter(',')
      ->check(CLI::IsMember({"optimized", "as-trained"}));
  c->add_option("--encoder", a->encoders, "encoders")->delimiter(',');
  c->add_option("--decoder", a->decoders, "decoders")->delimiter(',');
  c->add_option("--soak", a->soak_minutes,
                "minutes of the realtime pipeline (first of each list): memory every second, "
                "stalls, a 10 s watchdog")
      ->check(CLI::Range(0.0, 10000.0));
  c->add_option("--view", a->view,
                "side-by-side (the shipped line), reconstruction, or none (no compose stage: "
                "the models alone)")
      ->check(CLI::IsMember({"side-by-side", "reconstruction", "none"}));
  c->add_flag("--no-sequential", a->no_sequential, "skip the one-thread sequential baseline");
  c->add_flag("--peer", a->peer,
              "also time the plain loop over the same model objects (encode, spikes, decode, one "
              "batch after another, all cores' threads) and report the line's ratio to it");
  c->add_option("--json", a->json_path, "write the report as JSON");
  c->add_option("--csv", a->csv_path, "write the per-stage figures as CSV");
  c->add_option("--plot", a->plot_path, "write a PNG: latency distribution and latency over time");
  c->add_option("--trace", a->trace_path, "write a Chrome trace of the first run (Perfetto)");
  c->callback([a] { run_bench(*a); });
}

}  // namespace spikevid::cli
