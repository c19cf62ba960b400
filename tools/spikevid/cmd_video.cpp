// spikevid live, transcode, encode, decode: the staged pipeline on real video.
//   capture → preprocess → encode ═══► [record spikes] → decode → compose → sink
// encode stops after the spikes (to a spike file); decode starts from one.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <poll.h>
#include <termios.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "io/spike_file.h"
#include "io/video_sink.h"
#include "io/video_source.h"
#include "models/cell_table.h"
#include "models/encoder.h"
#include "models/progress.h"
#include "pipeline/latency_report.h"
#include "pipeline/pipeline.h"
#include "stages/compose.h"
#include "stages/decode_stage.h"
#include "stages/encode_stage.h"
#include "stages/gpu_lane.h"
#include "stages/preprocess.h"
#include "tools/spikevid/cli_common.h"
#include "tools/spikevid/reports.h"

namespace spikevid::cli {
namespace {

enum class Mode { live, transcode, encode, decode };

struct VideoArgs {
  Mode mode = Mode::transcode;
  CommonOptions common;
  std::string input, output, spikes_path, view = "side-by-side", tiles = "1x1";
  std::string precision = "float32";
  EncodeConfig encode;
  DecodeConfig decode;
  SourceOptions source;
  int batch = 1;
  std::size_t capacity = 4;
  std::size_t warmup = 10;
  std::int64_t max_frames = 0;
  bool no_overlay = false, no_window = false;
  std::string stats_path, trace_path, csv_path;
};

// Output files are checked before anything runs: a typo costs no encoding time.
void check_writable(const std::string& path) {
  if (path.empty()) return;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw std::runtime_error(path + ": folder " + parent.string() + " does not exist");
}

TileGrid tile_grid(const std::string& text) {
  try {
    return parse_tile_grid(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// 'q' on the terminal ends a live run (as Ctrl-C does): stdin in
// non-canonical mode, polled by a thread, restored on exit.
class QuitKey {
 public:
  explicit QuitKey(Pipeline& p) {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    active_ = true;
    thread_ = std::thread([this, &p] {
      while (!done_.load()) {
        pollfd fd{STDIN_FILENO, POLLIN, 0};
        if (::poll(&fd, 1, 100) > 0) {
          char c = 0;
          if (::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) {
            p.stop();
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

SpikeFileHeader spike_header(const EncoderInfo& e, const TileGrid& g, const std::string& source) {
  SpikeFileHeader h;
  const int tiles = g.rows * g.cols;
  h.cells = e.n_cells * tiles;
  h.bins = e.bins;
  h.window_s = e.window_s;
  h.encoder_id = e.id;
  h.encoder_json =
      e.meta.is_null() ? nlohmann::json{{"architecture", e.architecture}}.dump() : e.meta.dump();
  h.source = source;
  h.tile_rows = g.rows;
  h.tile_cols = g.cols;
  h.tile_overlap = g.overlap;
  if (static_cast<int>(e.cells.size()) == e.n_cells)
    for (int t = 0; t < tiles; ++t)
      for (const auto& c : e.cells) {
        h.cell_type.push_back(static_cast<std::uint8_t>(c.type));
        h.cell_x.push_back(c.x + static_cast<float>((t % g.cols) * (g.tile - g.overlap)));
        h.cell_y.push_back(c.y + static_cast<float>((t / g.cols) * (g.tile - g.overlap)));
        h.center_sigma.push_back(c.center_sigma);
        h.surround_sigma.push_back(c.surround_sigma);
      }
  return h;
}

// Appends one frame's counts [T,bins,N] as [bins, T·N] (the file's cell order).
void append_spikes(SpikeFileWriter& w, const Spikes& s) {
  host_wait(s.ready);  // on the CUDA path, the encode stage's stream may still be drawing them
  auto c = s.counts.detach().to(torch::kCPU, torch::kFloat32).permute({1, 0, 2}).contiguous();
  w.append(c.data_ptr<float>(), s.pts_ns);
}

void print_summary(Pipeline& p, const VideoArgs& a, const std::string& what) {
  const auto summary = p.recorder().summary();
  std::cout << what << "\n";
  write_table(std::cout, summary);
  write_latency_reports(p.recorder(), {a.stats_path, a.csv_path, a.trace_path});
}

void run_video(VideoArgs& a) {
  const auto device = resolve_device(a.common);
  a.encode.device = a.decode.device = device;
  a.encode.precision = a.decode.precision = a.precision;
  const TileGrid grid = tile_grid(a.tiles);
  a.decode.tiles = grid;
  a.decode.max_batch = a.batch;
  check_writable(a.output);
  check_writable(a.spikes_path);
  check_writable(a.stats_path);
  check_writable(a.trace_path);
  check_writable(a.csv_path);
  const bool live = a.mode == Mode::live;

  // Setup, in the order a user's mistakes are likeliest: the input, then the models.
  std::unique_ptr<VideoSource> source;
  SpikeFile spike_in;
  EncoderInfo enc_info;
  std::unique_ptr<EncodeStage> encode;
  if (a.mode == Mode::decode) {
    spike_in = read_spike_file(a.input);
    const auto& h = spike_in.header;
    if (spike_in.frames == 0) throw std::runtime_error(a.input + ": holds no frames");
    const int tiles = h.tile_rows * h.tile_cols;
    if (h.cells % tiles != 0)
      throw std::runtime_error(a.input + ": its cell count does not divide into its tiles");
    enc_info.id = h.encoder_id;
    enc_info.n_cells = h.cells / tiles;
    enc_info.bins = h.bins;
    enc_info.window_s = h.window_s;
    // The cell table is optional in a spike file, column by column (each one
    // empty or one entry per cell); the spike map needs positions and sizes.
    const auto has = [&](const auto& column) {
      return static_cast<int>(column.size()) >= enc_info.n_cells;
    };
    if (has(h.cell_x) && has(h.cell_y) && has(h.center_sigma) && has(h.surround_sigma))
      for (int i = 0; i < enc_info.n_cells; ++i)
        enc_info.cells.push_back(
            CellInfo{h.cell_type.empty() ? CellType::on : static_cast<CellType>(h.cell_type[i]),
                     h.cell_x[i], h.cell_y[i], h.center_sigma[i], h.surround_sigma[i]});
    a.decode.tiles = TileGrid{h.tile_rows, h.tile_cols, 64, h.tile_overlap};
  } else {
    source = open_video_source(a.input, a.source);
    const auto set = [](const char* name) {
      const char* v = std::getenv(name);
      return v && *v;
    };
    if (live && a.output.empty() && !a.no_window && !set("DISPLAY") && !set("WAYLAND_DISPLAY"))
      throw std::runtime_error(
          "live: no display to show a window on ($DISPLAY is not set); write to a file with -o "
          "out.mp4, or add --no-window");
    if (source->info().frames == 0) throw std::runtime_error(a.input + ": the video has no frames");
    encode = std::make_unique<EncodeStage>(a.encode);
    enc_info = encode->encoder().info();
  }
  std::unique_ptr<DecodeStage> decode;
  if (a.mode != Mode::encode) decode = std::make_unique<DecodeStage>(a.decode, enc_info);
  const TileGrid& out_grid = a.decode.tiles;

  PipelineConfig pc;
  pc.channel =
      live ? ChannelConfig{1, Overflow::keep_latest} : ChannelConfig{a.capacity, Overflow::block};
  pc.warmup_frames = a.warmup;
  pc.stop_flag = &stop_flag();
  Pipeline p(pc);

  // Stage names in line order, for the overlay.
  std::vector<std::string> names;
  if (a.mode == Mode::decode)
    names = {"read", "decode", "compose", "sink"};
  else
    names = {"capture", "preprocess", "encode"};
  if (a.mode == Mode::transcode || a.mode == Mode::live) {
    if (!a.spikes_path.empty()) names.push_back("record");
    names.insert(names.end(), {"decode", "compose", "sink"});
  } else if (a.mode == Mode::encode) {
    names.push_back("record");
  }

  const double fps = source ? (source->info().fps > 0 ? source->info().fps : 30.0) : [&] {
    const auto& t = spike_in.timestamps_ns;
    const double span = t.size() > 1 ? 1e-9 * static_cast<double>(t.back() - t.front()) : 0;
    return span > 0 ? static_cast<double>(t.size() - 1) / span : 30.0;
  }();
  std::string source_desc;
  if (source)
    source_desc = source->info().description + " (" + std::to_string(source->info().width) + "x" +
                  std::to_string(source->info().height) + ", " + std::to_string(fps) + " fps)";

  std::unique_ptr<SpikeFileWriter> spikes_out;
  if (a.mode == Mode::encode || !a.spikes_path.empty())
    spikes_out =
        std::make_unique<SpikeFileWriter>(a.mode == Mode::encode ? a.output : a.spikes_path,
                                          spike_header(enc_info, grid, source_desc));

  std::unique_ptr<ComposeStage> compose;
  std::unique_ptr<VideoSink> sink;
  if (decode) {
    ComposeConfig cc;
    cc.view = a.view;
    cc.overlay = !a.no_overlay;
    cc.cells = enc_info.cells;
    cc.tiles = out_grid;
    cc.window_s = enc_info.window_s;
    cc.stage_names = names;
    cc.stage_index = static_cast<int>(names.size()) - 2;
    try {
      compose = std::make_unique<ComposeStage>(cc);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (!a.output.empty())
      sink = VideoSink::open_file(a.output, compose->width(), compose->height(), fps);
    else if (live && !a.no_window)
      sink = VideoSink::open_window("window", compose->width(), compose->height(), fps);
  }

  const std::int64_t expected = a.mode == Mode::decode ? spike_in.frames : source->info().frames;
  const std::int64_t total =
      a.max_frames > 0 && (expected < 0 || a.max_frames < expected) ? a.max_frames : expected;
  Progress progress(std::cerr, a.mode == Mode::live ? "live" : "frames", total > 0 ? total : 0);
  std::int64_t done = 0;
  const auto count_frame = [&] {
    ++done;
    if (!live) progress.update(done, "");
  };

  // The line of stages. Its tail, decode → compose → sink, is the same for
  // every subcommand that decodes.
  const auto add_decode_to_sink = [&](auto spikes) {
    auto recon = p.add_batch_transform<ReconstructionPtr>(
        "decode", spikes, static_cast<std::size_t>(a.batch),
        [&](std::vector<SpikesPtr> v) { return decode->process_batch(std::move(v)); });
    auto composed = p.add_transform<ComposedPtr>(
        "compose", recon, [&](ReconstructionPtr r) { return compose->process(std::move(r)); });
    p.add_sink("sink", composed, [&](ComposedPtr c) {
      if (sink) sink->write(c->bgr.data());
      count_frame();
    });
  };
  std::int64_t emitted = 0;
  if (a.mode == Mode::decode) {
    // By value: the stages run after this block has ended.
    const int tiles = spike_in.header.tile_rows * spike_in.header.tile_cols;
    auto spikes = p.add_source<SpikesPtr>("read", [&, tiles]() -> std::optional<SpikesPtr> {
      const auto& h = spike_in.header;
      if (emitted >= spike_in.frames || (a.max_frames > 0 && emitted >= a.max_frames))
        return std::nullopt;
      const std::int64_t per = static_cast<std::int64_t>(h.bins) * h.cells;
      auto c = torch::from_blob(spike_in.counts.data() + emitted * per,
                                {h.bins, tiles, enc_info.n_cells}, torch::kFloat32)
                   .permute({1, 0, 2})
                   .contiguous();  // the decode stage uploads it
      auto s = std::make_unique<Spikes>();
      s->counts = c;
      s->pts_ns = spike_in.timestamps_ns[static_cast<std::size_t>(emitted)];
      ++emitted;
      return s;
    });
    add_decode_to_sink(spikes);
  } else {
    PreprocessStage pre(PreprocessConfig{grid, device == "cuda"});
    auto captured = p.add_source<CapturedPtr>("capture", [&]() -> std::optional<CapturedPtr> {
      if (a.max_frames > 0 && emitted >= a.max_frames) return std::nullopt;
      auto f = source->next();
      if (!f) return std::nullopt;
      ++emitted;
      auto c = std::make_unique<Captured>();
      c->image = std::move(f->image);
      c->pts_ns = f->pts_ns;
      return c;
    });
    auto frames = p.add_transform<FramePtr>(
        "preprocess", captured, [pre](CapturedPtr c) mutable { return pre.process(std::move(c)); });
    auto spikes = p.add_batch_transform<SpikesPtr>(
        "encode", frames, static_cast<std::size_t>(a.batch),
        [&](std::vector<FramePtr> v) { return encode->process_batch(std::move(v)); });
    if (a.mode == Mode::encode) {
      p.add_sink("record", spikes, [&](SpikesPtr s) {
        append_spikes(*spikes_out, *s);
        count_frame();
      });
    } else {
      auto to_decode = spikes;
      if (spikes_out)
        to_decode = p.add_transform<SpikesPtr>("record", spikes, [&](SpikesPtr s) {
          append_spikes(*spikes_out, *s);
          return s;
        });
      add_decode_to_sink(to_decode);
    }
  }

  {
    std::unique_ptr<QuitKey> quit;
    if (live) {
      quit = std::make_unique<QuitKey>(p);
      std::cerr << "live: " << source_desc << "; press q or Ctrl-C to stop\n";
    }
    try {
      p.run();
    } catch (...) {
      // Keep what was written: the spike file holds every frame so far, the
      // video is finalized (it plays), then the error goes to the user.
      if (spikes_out) spikes_out->close();
      if (sink) {
        try {
          sink->finish();
        } catch (...) {
        }
      }
      throw;
    }
  }
  if (!live) progress.finish();
  if (spikes_out) spikes_out->close();
  if (sink) sink->finish();
  if (done == 0 && !stop_requested())
    throw std::runtime_error(a.input + ": no frames came through");

  std::ostringstream what;
  const char* verb = a.mode == Mode::live        ? "live"
                     : a.mode == Mode::transcode ? "transcode"
                     : a.mode == Mode::encode    ? "encode"
                                                 : "decode";
  what << "spikevid " << verb << ": " << done << " frames"
       << (stop_requested() ? " (interrupted)" : "") << " from " << a.input;
  if (!a.output.empty()) what << " to " << a.output;
  if (!a.spikes_path.empty()) what << ", spikes to " << a.spikes_path;
  what << "; encoder " << enc_info.id << ", " << enc_info.n_cells * out_grid.rows * out_grid.cols
       << " cells";
  if (compose && !std::isnan(compose->mean_ssim()))
    what << "; reconstruction mean SSIM " << std::fixed << std::setprecision(3)
         << compose->mean_ssim() << ", PSNR " << std::setprecision(2) << compose->mean_psnr()
         << " dB";
  what << "; " << device << ", " << torch::get_num_threads() << " threads per stage";
  print_summary(p, a, what.str());
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
    c.add_option("--decoder", a.decode.decoder,
                 "decoder model file (SID, SID-lite, linear) or TorchScript .pt");
    c.add_flag("--no-overlay", a.no_overlay, "no figures over the side-by-side view");
  }
  c.add_option("--precision", a.precision,
               "float32, or bfloat16: the models' arithmetic (on a CPU with AMX, several times "
               "faster)")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  c.add_option("--frames", a.max_frames, "stop after this many frames (0: all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  c.add_option("--batch", a.batch, "largest micro-batch a model stage takes")
      ->check(CLI::Range(1, 1024));
  c.add_option("--capacity", a.capacity, "channel capacity (offline)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
  c.add_option("--warmup", a.warmup, "frames left out of the latency statistics")
      ->check(CLI::NonNegativeNumber);
  c.add_option("--stats", a.stats_path, "write the latency summary as JSON");
  c.add_option("--csv", a.csv_path, "write the latency summary as CSV");
  c.add_option("--trace", a.trace_path, "write a Chrome trace (opens in Perfetto)");
  // One LibTorch thread per stage: the stages already run side by side.
  a.common.threads = 1;
  add_common_options(c, a.common);
}

}  // namespace

void add_video_commands(CLI::App& app) {
  {
    auto a = std::make_shared<VideoArgs>();
    a->mode = Mode::live;
    a->input = "webcam";
    auto* c = app.add_subcommand("live", "Encode and decode a live source, shown in a window");
    c->option_defaults()->always_capture_default();
    c->footer(
        "SOURCE: webcam (default, /dev/video0), /dev/videoN, test (a live test pattern), a video "
        "file, an image folder, or gst:PIPELINE ending in '! videoconvert ! appsink'.\n"
        "Every edge keeps the latest frame (keep_latest), so latency stays bounded. q or Ctrl-C "
        "ends it with the latency table.\n"
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
        "at the end.\n"
        "Examples:\n"
        "  spikevid transcode data/video/vtest.avi -o out/street.mp4\n"
        "  spikevid transcode in.mp4 -o out.mkv --spikes out/spikes.h5 --view reconstruction\n"
        "  spikevid transcode in.mp4 -o out.mp4 --tiles 3x4 --decoder "
        "models/weights/sid-lite-natural.svm");
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
        "  spikevid encode test -o out/pattern.h5 --frames 90");
    c->add_option("input", a->input, "video file (or image folder, test, webcam, gst:...)")
        ->required();
    c->add_option("-o,--out", a->output, "spike file to write (.h5)")->required();
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
        "The decoder must have been trained with the encoder that made the spikes.\n"
        "Examples:\n"
        "  spikevid decode out/street.h5 -o out/street.mp4\n"
        "  spikevid decode out/street.h5 -o out/street-view.mp4 --view side-by-side");
    c->add_option("input", a->input, "spike file (.h5)")->required();
    c->add_option("-o,--out", a->output, "output video (.mp4 or .mkv)")->required();
    c->add_option("--view", a->view, "reconstruction, or side-by-side (spikes and reconstruction)")
        ->check(CLI::IsMember({"side-by-side", "reconstruction"}));
    add_pipeline_options(*c, *a, false, true);
    c->callback([a] { run_video(*a); });
  }
}

}  // namespace spikevid::cli
