// spikevid live, transcode, encode, decode: the line (stages/line.h) on real
// video, configured from the command line; this file parses and reports.
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include <poll.h>
#include <termios.h>
#include <torch/torch.h>
#include <unistd.h>

#include "io/udp_relay.h"
#include "models/decoder.h"
#include "models/precision_check.h"
#include "models/progress.h"
#include "pipeline/latency_report.h"
#include "pipeline/pipeline.h"
#include "stages/line.h"
#include "stages/spike_server.h"
#include "tools/spikevid/cli_common.h"
#include "tools/spikevid/reports.h"

namespace spikevid::cli {
namespace {

enum class Mode { live, transcode, encode, decode };

struct VideoArgs {
  Mode mode = Mode::transcode;
  CommonOptions common;
  std::string input, output, spikes_path, send_to, view = "side-by-side", tiles = "1x1";
  double idle_timeout_s = 10;
  int send_copies = 1;
  std::string precision = "auto", cuda_graphs = "off";
  EncodeConfig encode;
  std::string decoder = kDefaultVideoDecoder;
  SourceOptions source;
  int batch = 0;  // auto
  std::size_t capacity = 4;
  std::size_t warmup = 10;
  std::int64_t max_frames = 0;
  bool no_overlay = false, no_window = false;
  bool window = false;  // decode: show the video in a window instead of writing -o
  std::string stats_path, trace_path, csv_path;
};

// 'q' on the terminal ends a live run (as Ctrl-C does): stdin in
// non-canonical mode, polled by a thread, restored on exit.
class QuitKey {
 public:
  explicit QuitKey(Line& line) {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    active_ = true;
    thread_ = std::thread([this, &line] {
      while (!done_.load()) {
        pollfd fd{STDIN_FILENO, POLLIN, 0};
        if (::poll(&fd, 1, 100) > 0) {
          char c = 0;
          if (::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) {
            line.stop();
            return;
          }
        }
      }
    });
  }
  ~QuitKey() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

bool is_stream_uri(const std::string& s) {
  return s.rfind("srt://", 0) == 0 || s.rfind("rtp://", 0) == 0;
}

bool is_spike_file(const std::string& s) {
  const auto dot = s.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = s.substr(dot);
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".h5" || ext == ".hdf5";
}

bool have_display() {
  const auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
  };
  return set("DISPLAY") || set("WAYLAND_DISPLAY");
}

LineConfig line_config(const VideoArgs& a, Device device) {
  LineConfig c;
  c.source = a.mode == Mode::encode && is_spike_file(a.input) ? SourceKind::spike_file
             : a.mode != Mode::decode                         ? SourceKind::video
             : is_stream_uri(a.input)                         ? SourceKind::spike_stream
                                                              : SourceKind::spike_file;
  if (a.mode == Mode::encode && c.source == SourceKind::spike_file) {
    if (a.send_to.empty() || !a.output.empty())
      throw UsageError("encode " + a.input +
                       ": a spike file is already encoded; it can be sent as it is (--to URI, "
                       "without -o), at its own frame rate");
    c.paced = true;
  }
  c.idle_timeout_s = a.idle_timeout_s;
  c.input = a.input;
  c.video = a.source;
  c.max_frames = a.max_frames;
  try {
    c.tiles = parse_tile_grid(a.tiles);
    c.precision = parse_precision_or_auto(a.precision);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  c.encode = a.encode;
  c.decode = a.mode != Mode::encode;
  c.record_spikes = a.mode == Mode::encode ? a.output : a.spikes_path;
  c.send_spikes = a.send_to;
  c.send_copies = a.send_copies;
  if (a.send_copies > 1 && a.send_to.empty())
    throw UsageError("--streams " + std::to_string(a.send_copies) + ": with --to URI");
  if (a.mode == Mode::encode && a.output.empty() && a.send_to.empty())
    throw UsageError(
        "encode: give a spike file to write (-o S.h5), a stream to send to (--to "
        "srt://HOST:PORT or rtp://HOST:PORT), or both");
  c.decoder.decoder = a.decoder;
  c.view = a.view == "reconstruction" ? View::reconstruction : View::side_by_side;
  c.overlay = !a.no_overlay;
  if (a.mode == Mode::decode && a.window == !a.output.empty())
    throw UsageError(a.window ? "decode: --window or -o OUT, not both (one video output)"
                              : "decode: give -o OUT.mp4, or --window to show the video");
  if ((a.mode == Mode::live && a.output.empty()) || a.window)
    c.sink = a.no_window ? SinkKind::null : SinkKind::window;
  else if (a.mode != Mode::encode)
    c.sink = SinkKind::file;
  c.output = a.mode == Mode::encode ? "" : a.output;
  c.device = device;
  c.cuda_graphs = a.cuda_graphs == "on";
  c.batch = a.batch;
  c.threads = a.common.threads;
  c.pacing = a.mode == Mode::live ? Pacing::live : Pacing::offline;
  c.capacity = a.capacity;
  c.warmup = a.warmup;
  c.stop_flag = &stop_flag();
  c.other_outputs = {a.stats_path, a.csv_path, a.trace_path};
  return c;
}

void run_video(VideoArgs& a) {
  const Device device = parse_device(resolve_device(a.common));
  const bool live = a.mode == Mode::live;
  if (live && a.output.empty() && !a.no_window && !have_display())
    throw std::runtime_error(
        "live: no display to show a window on ($DISPLAY is not set); write to a file with -o "
        "out.mp4, or add --no-window");
  auto config = line_config(a, device);
  if (a.window && !have_display())
    throw std::runtime_error(
        "decode --window: no display to show a window on ($DISPLAY is not set); write to a file "
        "with -o out.mp4");
  std::unique_ptr<Progress> progress;
  std::int64_t done = 0;
  config.on_output = [&](const FrameMeta&) {
    ++done;
    if (progress) progress->update(done, "");
  };
  std::unique_ptr<Line> line;
  try {
    line = std::make_unique<Line>(config);
  } catch (const std::invalid_argument& e) {  // settings that do not go together
    throw UsageError(e.what());
  }
  if (!live)
    progress = std::make_unique<Progress>(
        std::cerr, "frames", line->expected_frames() > 0 ? line->expected_frames() : 0);
  LineResult r;
  {
    std::unique_ptr<QuitKey> quit;
    if (live) {
      quit = std::make_unique<QuitKey>(*line);
      std::cerr << "live: " << line->source_description() << "; press q or Ctrl-C to stop\n";
    }
    r = line->run();
  }
  if (progress) progress->finish();
  if (r.frames_out == 0 && !stop_requested())
    throw std::runtime_error(a.input + ": no frames came through");

  const char* verb = a.mode == Mode::live        ? "live"
                     : a.mode == Mode::transcode ? "transcode"
                     : a.mode == Mode::encode    ? "encode"
                                                 : "decode";
  const auto& e = line->encoder_info();
  const auto& g = line->grid();
  std::ostringstream what;
  what << "spikevid " << verb << ": " << r.frames_out << " frames"
       << (stop_requested() ? " (interrupted)" : "") << " from " << a.input;
  if (!a.output.empty()) what << " to " << a.output;
  if (!a.send_to.empty())
    what << ", sent to " << a.send_to
         << (line->sender_answered() ? "" : " (nobody answered: none delivered)");
  if (!a.spikes_path.empty()) what << ", spikes to " << a.spikes_path;
  what << "; encoder " << e.id << ", " << e.n_cells * g.rows * g.cols << " cells";
  if (!std::isnan(r.mean_ssim))
    what << "; reconstruction mean SSIM " << std::fixed << std::setprecision(3) << r.mean_ssim
         << ", PSNR " << std::setprecision(2) << r.mean_psnr << " dB";
  what << "; " << to_string(device) << ", batch " << line->batch()
       << (line->batch_auto() ? " (auto)" : "") << ", " << line->precision_plan().describe() << ", "
       << line->thread_plan().describe();
  const auto summary = line->recorder().summary();
  std::cout << what.str() << "\n";
  if (!line->stream_counts().empty()) std::cout << "stream: " << line->stream_counts() << "\n";
  write_table(std::cout, summary);
  nlohmann::json extra = {{"command", command_line()},
                          {"frames_in", r.frames_in},
                          {"frames_out", r.frames_out},
                          {"interrupted", r.interrupted},
                          {"peak_rss_mb", peak_rss_mb()}};
  if (!std::isnan(r.mean_ssim))
    extra["reconstruction"] = {{"mean_ssim", r.mean_ssim}, {"mean_psnr_db", r.mean_psnr}};
  write_latency_reports(line->recorder(), {a.stats_path, a.csv_path, a.trace_path}, extra);
}

struct RelayArgs {
  std::string listen, to, netsim = "0,0";
};

// "HOST:PORT" or ":PORT" (every address); throws UsageError.
std::pair<std::string, int> host_port(const std::string& text, const char* option) {
  const auto colon = text.rfind(':');
  int port = 0;
  try {
    std::size_t used = 0;
    if (colon != std::string::npos) port = std::stoi(text.substr(colon + 1), &used);
    if (colon == std::string::npos || used != text.size() - colon - 1) port = 0;
  } catch (const std::logic_error&) {
    port = 0;
  }
  if (port < 1 || port > 65535)
    throw UsageError(std::string(option) + " '" + text + "': expected HOST:PORT or :PORT");
  const auto host = text.substr(0, colon);
  return {host.empty() ? "0.0.0.0" : host, port};
}

void run_relay(const RelayArgs& a) {
  stream::RelayConfig c;
  std::tie(c.listen_host, c.listen_port) = host_port(a.listen, "--listen");
  std::tie(c.to_host, c.to_port) = host_port(a.to, "--to");
  if (c.to_host == "0.0.0.0") c.to_host = "127.0.0.1";
  try {
    stream::parse_netsim(a.netsim, c);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  stream::UdpRelay relay(c);
  std::cerr << "relay: " << c.listen_host << ":" << c.listen_port << " to " << c.to_host << ":"
            << c.to_port << ", " << relay.describe() << "; Ctrl-C to stop\n";
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto n = relay.counts();
  std::cout << "relay: datagrams forward " << n.forward_in << " in, " << n.forward_out
            << " out; back " << n.back_in << " in, " << n.back_out << " out\n";
}

void add_pipeline_options(CLI::App& c, VideoArgs& a, bool encodes, bool decodes) {
  if (encodes) {
    c.add_option("--encoder", a.encode.encoder,
                 "encoder: model file, TorchScript .pt, or 'retina'");
    c.add_option("--seed", a.encode.seed, "spike seed (the same seed gives the same spikes)")
        ->check(CLI::NonNegativeNumber);
    c.add_option("--bins", a.encode.bins, "time bins per frame window")->check(CLI::Range(1, 64));
    c.add_option("--tiles", a.tiles, "cut each frame into RxC overlapping 64x64 tiles (e.g. 3x4)");
    c.add_option("--stall-timeout", a.source.stall_timeout_s,
                 "seconds without a frame before the source counts as stalled (0: wait forever)")
        ->check(CLI::Range(0.0, 86400.0));
  }
  if (decodes) {
    c.add_option("--decoder", a.decoder,
                 "decoder model file (SID, SID-lite, SID-lite-GRU, linear) or TorchScript .pt; "
                 "default: SID-lite-GRU, a temporal decoder (models/weights/"
                 "sid-lite-natural.svm decodes each frame alone)");
    c.add_flag("--no-overlay", a.no_overlay, "no figures over the side-by-side view");
  }
  c.add_option("--precision", a.precision,
               "auto (bfloat16 on a CPU with AMX or AVX512-BF16, float16 on CUDA, for each model "
               "whose file records that it stays within 0.005 SSIM of float32); float32; "
               "bfloat16; float16 (CUDA: the decoder)")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16", "float16"}));
  if (decodes)
    c.add_option("--cuda-graphs", a.cuda_graphs,
                 "off, on: the decoder's forward pass as a CUDA graph (--device cuda)")
        ->check(CLI::IsMember({"off", "on"}));
  c.add_option("--frames", a.max_frames, "stop after this many frames (0: all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  c.add_option("--batch", a.batch,
               "largest micro-batch a model stage takes; auto: 8 offline, 1 live (live keeps 1)")
      ->check(not_zero)
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 1024))
      ->default_str("auto");
  c.add_option("--capacity", a.capacity, "channel capacity (offline)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
  c.add_option("--warmup", a.warmup, "frames left out of the latency statistics")
      ->check(CLI::NonNegativeNumber);
  c.add_option("--stats", a.stats_path,
               "write the latency summary, frame counts and scores as JSON");
  c.add_option("--csv", a.csv_path, "write the latency summary as CSV");
  c.add_option("--trace", a.trace_path,
               "write a Chrome trace of the first and last 2,048 frames (opens in Perfetto)");
  add_common_options(c, a.common);
}

struct ServeArgs {
  CommonOptions common;
  std::string listen, output, tiles = "1x1", precision = "auto", stats_path;
  std::string encoder = "models/weights/encoder-cnn.svm", decoder = kDefaultDecoder;
  int streams = 1, batch = 64;
  std::size_t warmup = 10;
  double idle_timeout_s = 10;
};

void run_serve(const ServeArgs& a) {
  const Device device = parse_device(resolve_device(a.common));
  if (device != Device::cpu) throw UsageError("serve: --device cpu (the CUDA path is not wired)");
  ServeConfig c;
  c.listen = a.listen;
  c.streams = a.streams;
  c.output_pattern = a.output;
  c.encoder = a.encoder;
  c.decoder.decoder = a.decoder;
  c.decoder.threads = std::max(1, a.common.threads);
  c.max_batch = a.batch;
  c.idle_timeout_s = a.idle_timeout_s;
  c.warmup = a.warmup;
  c.stop_flag = &stop_flag();
  std::optional<Precision> precision;
  try {
    c.decoder.tiles = parse_tile_grid(a.tiles);
    precision = parse_precision_or_auto(a.precision);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  // auto: bfloat16 where this CPU runs it fast and the decoder's file records
  // that it stays within 0.005 SSIM of float32 (as the line's PrecisionPlan).
  const bool automatic = !precision;
  c.decoder.precision = precision.value_or(Precision::float32);
  std::unique_ptr<SpikeServer> server;
  try {
    server = std::make_unique<SpikeServer>(c);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (automatic && cpu_has_fast_bfloat16() &&
      precision_checked_ok(server->decode_stage().decoder().info().meta, "bfloat16")) {
    c.decoder.precision = Precision::bfloat16;
    server->decode_stage().set_precision(Precision::bfloat16);
  }
  std::cout << "serve: " << a.streams << " stream" << (a.streams > 1 ? "s" : "") << " on "
            << a.listen << (a.streams > 1 ? " (stream k on PORT + k)" : "") << ", decoder "
            << a.decoder << " in " << to_string(c.decoder.precision)
            << "; Ctrl-C ends it, each output finalized" << std::endl;
  const auto streams = server->run();

  std::int64_t written = 0, received = 0, lost = 0;
  int started = 0;
  nlohmann::json per_stream = nlohmann::json::array();
  std::cout << "stream  frames  lost  late  malformed  written  p50 ms  p99 ms  max ms  output\n";
  for (const auto& s : streams) {
    written += s.written;
    received += s.counts.frames;
    lost += s.counts.lost;
    started += s.started ? 1 : 0;
    std::ostringstream line;
    line << std::setw(6) << s.index << std::setw(8) << s.counts.frames << std::setw(6)
         << s.counts.lost << std::setw(6) << s.counts.late << std::setw(11) << s.counts.malformed
         << std::setw(9) << s.written << std::fixed << std::setprecision(2) << std::setw(8)
         << s.p50_ms << std::setw(8) << s.p99_ms << std::setw(8) << s.max_ms << "  "
         << (!s.refused.empty() ? "refused"
             : !s.started       ? "(no sender)"
             : s.output.empty() ? "-"
                                : s.output);
    std::cout << line.str() << "\n";
    per_stream.push_back(
        {{"stream", s.index},
         {"uri", s.uri},
         {"output", s.output},
         {"started", s.started},
         {"refused", s.refused},
         {"frames", s.counts.frames},
         {"lost", s.counts.lost},
         {"late", s.counts.late},
         {"repeated", s.counts.repeated},
         {"malformed", s.counts.malformed},
         {"restarts", s.counts.restarts},
         {"written", s.written},
         {"latency_ms", {{"p50", s.p50_ms}, {"p99", s.p99_ms}, {"max", s.max_ms}}}});
  }
  std::cout << "spikevid serve: " << started << " of " << a.streams << " streams came, " << received
            << " frames received, " << lost << " lost, " << written << " written"
            << (stop_requested() ? " (interrupted)" : "") << "; " << server->decoder_calls()
            << " decoder calls, " << std::fixed << std::setprecision(2)
            << (server->decoder_calls() ? static_cast<double>(server->frames_decoded()) /
                                              static_cast<double>(server->decoder_calls())
                                        : 0.0)
            << " frames each on average, at most " << server->largest_batch() << "\n";
  const auto summary = server->pipeline().recorder().summary();
  write_table(std::cout, summary);
  nlohmann::json extra = {{"command", command_line()},
                          {"streams", per_stream},
                          {"precision", to_string(c.decoder.precision)},
                          {"decoder_calls", server->decoder_calls()},
                          {"frames_decoded", server->frames_decoded()},
                          {"largest_batch", server->largest_batch()},
                          {"peak_rss_mb", peak_rss_mb()}};
  write_latency_reports(server->pipeline().recorder(), {a.stats_path, "", ""}, extra);
  if (started == 0 && !stop_requested())
    throw std::runtime_error(a.listen + ": no stream came within " +
                             std::to_string(static_cast<int>(a.idle_timeout_s)) +
                             " s (--idle-timeout)");
}

}  // namespace

void add_video_commands(CLI::App& app) {
  {
    auto a = std::make_shared<ServeArgs>();
    auto* c = app.add_subcommand("serve", "Many spike streams into one batched decoder");
    c->option_defaults()->always_capture_default();
    c->footer(
        "Stream k listens on PORT + k. One decoder takes every frame that is waiting, of any "
        "stream, in one call. Each stream's reconstruction goes to its own video (-o with a %d "
        "pattern), or nowhere. A stream ends with its end of stream or --idle-timeout seconds "
        "without a message; serve ends when every stream has. Per stream: frames, lost, late, "
        "latency from its message taken to its frame written.\n"
        "Examples:\n"
        "  spikevid serve --listen srt://:7000 --streams 4 -o out/stream-%02d.mp4\n"
        "  spikevid encode out/street.h5 --to srt://127.0.0.1:7002   (stream 2: a replay)");
    c->add_option("--listen", a->listen, "srt://:PORT or rtp://:PORT (stream k: PORT + k)")
        ->required();
    c->add_option("--streams", a->streams, "how many streams")->check(CLI::Range(1, 1024));
    c->add_option("-o,--out", a->output,
                  "each stream's video, a pattern with one %d for its number (none: no outputs)");
    c->add_option("--encoder", a->encoder, "the streams' encoder (its cells: the model file)");
    c->add_option("--decoder", a->decoder, "decoder model file");
    c->add_option("--tiles", a->tiles, "the streams' tiles (RxC); others are refused");
    c->add_option("--precision", a->precision,
                  "auto (bfloat16 where fast and recorded within 0.005 SSIM), float32, bfloat16")
        ->check(CLI::IsMember({"auto", "float32", "bfloat16"}));
    c->add_option("--batch", a->batch, "the most frames one decoder call takes")
        ->check(CLI::Range(1, 1024));
    c->add_option("--idle-timeout", a->idle_timeout_s,
                  "seconds without a message (or, before it, the header) that end a stream")
        ->check(CLI::Range(0.1, 86400.0));
    c->add_option("--warmup", a->warmup,
                  "each stream's first frames, left out of its latency (and the line's first, "
                  "of the table)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--stats", a->stats_path, "write the latency summary and each stream's as JSON");
    add_common_options(*c, a->common);
    c->callback([a] { run_serve(*a); });
  }
  {
    auto a = std::make_shared<VideoArgs>();
    a->mode = Mode::live;
    a->input = "webcam";
    auto* c = app.add_subcommand("live", "Encode and decode a live source, shown in a window");
    c->option_defaults()->always_capture_default();
    c->footer(
        "SOURCE: webcam (default, /dev/video0), /dev/videoN, test (a live test pattern), a video "
        "file, an image folder, or gst:PIPELINE ending in '! videoconvert ! appsink'.\n"
        "Every edge keeps the latest frame (keep_latest), so latency stays bounded; every drop "
        "is counted, the camera's own included. q or Ctrl-C ends it with the latency table.\n"
        "Examples:\n"
        "  spikevid live\n"
        "  spikevid live test --tiles 2x2\n"
        "  spikevid live test -o out/live.mp4 --frames 300");
    c->add_option("source", a->input, "what to show");
    c->add_option("-o,--out", a->output,
                  "also (instead of the window) write the view to .mp4/.mkv");
    c->add_option("--spikes", a->spikes_path, "keep the spikes in this HDF5 spike file");
    c->add_option("--view", a->view, "side-by-side or reconstruction")
        ->check(CLI::IsMember({"side-by-side", "reconstruction"}));
    c->add_flag("--no-window", a->no_window, "no window (with -o, or to measure only)");
    add_pipeline_options(*c, *a, true, true);
    c->callback([a] { run_video(*a); });
  }
  {
    auto a = std::make_shared<VideoArgs>();
    auto* c = app.add_subcommand("transcode", "Video file to spikes to video file, losslessly");
    c->option_defaults()->always_capture_default();
    c->footer(
        "No frame is dropped (every edge blocks). A progress bar on a terminal, the latency table "
        "at the end. The output is written as OUT.part-PID and renamed into place when it is "
        "finalized; it may not be the input.\n"
        "Examples:\n"
        "  spikevid transcode data/video/vtest.avi -o out/street.mp4\n"
        "  spikevid transcode in.mp4 -o out.mkv --spikes out/spikes.h5 --view reconstruction\n"
        "  spikevid transcode in.mp4 -o out.mp4 --tiles 3x4 --precision bfloat16");
    c->add_option("input", a->input, "video file (or image folder, test, gst:...)")->required();
    c->add_option("-o,--out", a->output, "output video (.mp4 or .mkv)")->required();
    c->add_option("--spikes", a->spikes_path, "also keep the spikes in this HDF5 spike file");
    c->add_option("--view", a->view, "side-by-side or reconstruction")
        ->check(CLI::IsMember({"side-by-side", "reconstruction"}));
    add_pipeline_options(*c, *a, true, true);
    c->callback([a] { run_video(*a); });
  }
  {
    auto a = std::make_shared<VideoArgs>();
    a->mode = Mode::encode;
    auto* c = app.add_subcommand("encode", "Video to a spike file (HDF5)");
    c->option_defaults()->always_capture_default();
    c->footer(
        "The spike file's layout is in the README (h5py and MATLAB lines). encode then decode "
        "gives the frames transcode gives, with the same seed and --batch.\n"
        "Examples:\n"
        "  spikevid encode data/video/vtest.avi -o out/street.h5\n"
        "  spikevid encode test -o out/pattern.h5 --frames 90\n"
        "  spikevid encode webcam --to srt://192.168.1.20:7001\n"
        "  spikevid encode out/street.h5 --to srt://127.0.0.1:7001   (a spike file, replayed at "
        "its frame rate)");
    c->add_option("input", a->input,
                  "video file (or image folder, test, webcam, gst:...); or, with --to, a spike "
                  "file (.h5) to replay")
        ->required();
    c->add_option("-o,--out", a->output, "spike file to write (.h5)");
    c->add_option("--to", a->send_to,
                  "send the spikes to srt://HOST:PORT (options ?mode=caller|listener, "
                  "latency=MS, passphrase=P) or rtp://HOST:PORT; the receiver is "
                  "`spikevid decode URI`");
    c->add_option("--streams", a->send_copies,
                  "with --to: send the same spikes as this many streams, to PORT, PORT + 1, ... "
                  "(one process playing many senders for `serve`)")
        ->check(CLI::Range(1, 1024));
    add_pipeline_options(*c, *a, true, false);
    c->callback([a] { run_video(*a); });
  }
  {
    auto a = std::make_shared<VideoArgs>();
    a->mode = Mode::decode;
    a->view = "reconstruction";
    auto* c = app.add_subcommand("decode", "A spike file to video");
    c->option_defaults()->always_capture_default();
    c->footer(
        "The decoder must have been trained with the encoder that made the spikes. The file is "
        "read a frame at a time: memory does not grow with its length.\n"
        "Examples:\n"
        "  spikevid decode out/street.h5 -o out/street.mp4\n"
        "  spikevid decode out/street.h5 -o out/street-view.mp4 --view side-by-side\n"
        "  spikevid decode srt://:7001 -o out/received.mp4   (then: spikevid encode IN --to "
        "srt://127.0.0.1:7001)\n"
        "  spikevid decode rtp://:7002 --window --spikes out/received.h5");
    c->add_option("input", a->input,
                  "spike file (.h5), or a stream to receive: srt://:PORT (listens) or "
                  "rtp://:PORT")
        ->required();
    c->add_option("-o,--out", a->output, "output video (.mp4 or .mkv)");
    c->add_flag("--window", a->window, "show the video in a window instead of writing -o");
    c->add_option("--spikes", a->spikes_path,
                  "also keep the spikes received in this HDF5 spike file (a stream: the frames "
                  "that came, in order; the lost ones are counted, not written)");
    c->add_option("--view", a->view, "reconstruction, or side-by-side (spikes and reconstruction)")
        ->check(CLI::IsMember({"side-by-side", "reconstruction"}));
    c->add_option("--encoder", a->encode.encoder,
                  "a stream's encoder (its cells come from the model file, not the stream)");
    c->add_option("--idle-timeout", a->idle_timeout_s,
                  "a stream: seconds to wait for its header, and for a message before the "
                  "outputs are finalized")
        ->check(CLI::Range(0.1, 86400.0));
    add_pipeline_options(*c, *a, false, true);
    c->callback([a] { run_video(*a); });
  }
  {
    auto a = std::make_shared<RelayArgs>();
    auto* c = app.add_subcommand(
        "relay", "Pass UDP datagrams on, delayed and dropped: a bad network, to try streams on");
    c->option_defaults()->always_capture_default();
    c->footer(
        "Replies come back to whoever sent last, from the listening port, so an SRT caller and "
        "its listener talk through it as if directly. Runs until Ctrl-C.\n"
        "Example (20 +- 5 ms and 1 % loss each way between a sender and decode srt://:7001):\n"
        "  spikevid relay --listen :7100 --to 127.0.0.1:7001 --netsim 15-25,0.01\n"
        "  spikevid encode out/street.h5 --to srt://127.0.0.1:7100?latency=200");
    c->add_option("--listen", a->listen, "HOST:PORT to receive on (:PORT: every address)")
        ->required();
    c->add_option("--to", a->to, "HOST:PORT to pass the datagrams on to")->required();
    c->add_option("--netsim", a->netsim,
                  "DELAY,LOSS: each datagram delayed DELAY ms (or MIN-MAX, uniform, in order) "
                  "and a fraction LOSS dropped, each way (GStreamer's netsim)");
    c->callback([a] { run_relay(*a); });
  }
}

}  // namespace spikevid::cli
