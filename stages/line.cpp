#include "stages/line.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "io/output_file.h"
#include "io/spike_file.h"
#include "models/decoder.h"
#include "models/precision_check.h"
#include "pipeline/pipeline.h"
#include "stages/null_sink.h"
#include "stages/spike_files.h"
#include "stages/spike_streams.h"
#ifdef SPIKEVID_HAVE_IO
#include "stages/compose.h"
#include "stages/video_capture.h"
#include "stages/video_sinks.h"
#endif

namespace spikevid {
namespace {

[[maybe_unused]] [[noreturn]] void needs_io(const char* what) {
  throw std::invalid_argument(std::string(what) +
                              ": this LibTorch-only build has no OpenCV, GStreamer or HDF5 "
                              "(synthetic frames, no view, a null sink)");
}

// The files a run reads: an output must never be one of them.
std::vector<std::string> inputs_of(const LineConfig& c) {
  if (c.source == SourceKind::synthetic || c.source == SourceKind::spike_stream) return {};
  return {c.input};
}

}  // namespace

Line::Line(LineConfig config) : config_(std::move(config)) {
  auto& c = config_;
  if (const auto problem =
          settings_problem(c.device, c.precision.value_or(Precision::float32), c.cuda_graphs);
      !problem.empty())
    throw std::invalid_argument(problem);
  if (c.batch == 0) {
    batch_auto_ = true;
    c.batch = c.pacing == Pacing::live ? 1 : kAutoBatch;
    // Room for a whole batch waiting while the one before computes.
    if (c.pacing == Pacing::offline)
      c.capacity = std::max(c.capacity, static_cast<std::size_t>(2 * c.batch));
  }
  if (c.batch < 1 || c.threads < 0 || c.decode_workers < 0)
    throw std::invalid_argument("--batch, --threads and --decode-workers must be at least 1");
  if (c.decode_workers > 1 && c.device != Device::cpu)
    throw std::invalid_argument(
        "--decode-workers " + std::to_string(c.decode_workers) +
        ": several decode workers are for the CPU; on CUDA one stream keeps the GPU busy");
  if (c.pacing == Pacing::live && c.batch > 1)
    throw std::invalid_argument(
        "--batch " + std::to_string(c.batch) +
        ": a live line keeps only the newest frame on every edge, so a model stage never finds "
        "more than one waiting; batches are for transcode, encode, decode and bench --mode "
        "offline");
  if (!c.decode &&
      ((c.record_spikes.empty() && c.send_spikes.empty()) || c.source == SourceKind::spike_stream ||
       (c.source == SourceKind::spike_file && (c.send_spikes.empty() || !c.record_spikes.empty()))))
    throw std::invalid_argument(
        "a line that does not decode must record or send spikes from a video, or send a spike "
        "file's");
  if (c.view == View::none && c.sink != SinkKind::null)
    throw std::invalid_argument("--view none: only the null sink takes undrawn frames");
  if (c.sink == SinkKind::file && c.output.empty())
    throw std::invalid_argument("a file sink needs an output path");
  const auto inputs = inputs_of(c);
  {
    std::vector<std::string> outputs{c.sink == SinkKind::file ? c.output : "", c.record_spikes};
    outputs.insert(outputs.end(), c.other_outputs.begin(), c.other_outputs.end());
    check_outputs(outputs, inputs);
  }

  // The source, then the models: in the order a user's mistakes are likeliest.
  switch (c.source) {
    case SourceKind::spike_file: {
      spike_file_ = std::make_unique<SpikeFileSource>(c.input);
      encoder_info_ = spike_file_->encoder();
      grid_ = spike_file_->grid();
      fps_ = spike_file_->fps();
      expected_frames_ = spike_file_->frames();
      source_description_ = c.input;
      break;
    }
    case SourceKind::spike_stream: {  // a LibTorch-only build's stand-in says it has none
      spike_stream_ = std::make_unique<SpikeStreamSource>(c.input, c.encode.encoder,
                                                          c.idle_timeout_s, c.stop_flag);
      encoder_info_ = spike_stream_->encoder();
      grid_ = spike_stream_->grid();
      fps_ = spike_stream_->fps();
      expected_frames_ = 0;
      source_description_ = c.input;
      break;
    }
    case SourceKind::synthetic: {
      c.synthetic.grid = c.tiles;
      capture_ = make_synthetic_capture(c.synthetic);
      break;
    }
    case SourceKind::video: {
#ifdef SPIKEVID_HAVE_IO
      capture_ = open_video_capture(c.input, c.video);
      if (capture_->info().frames == 0)
        throw std::runtime_error(c.input + ": the video has no frames");
#else
      needs_io("a video source");
#endif
      break;
    }
  }
  if (capture_) {
    const auto& i = capture_->info();
    fps_ = i.fps > 0 ? i.fps : 30.0;
    expected_frames_ = i.frames;
    source_description_ = i.description + " (" + std::to_string(i.width) + "x" +
                          std::to_string(i.height) + ", " + std::to_string(fps_) + " fps)";
    capture_->set_delivered(&delivered_);
    grid_ = c.tiles;
    check_tile_grid(grid_);
    preprocess_ =
        std::make_unique<PreprocessStage>(PreprocessConfig{grid_, c.device == Device::cuda});
    auto e = c.encode;
    e.device = c.device;
    e.precision = c.precision.value_or(Precision::float32);  // auto: decided below
    e.threads = std::max(1, c.threads);
    encode_ = std::make_unique<EncodeStage>(e);
    encoder_info_ = encode_->encoder().info();
  }
  if (c.max_frames > 0 && (expected_frames_ < 0 || c.max_frames < expected_frames_))
    expected_frames_ = c.max_frames;
  if (c.decode) {
    auto d = c.decoder;
    d.device = c.device;
    d.precision = c.precision.value_or(Precision::float32);
    d.cuda_graphs = c.cuda_graphs;
    d.tiles = grid_;
    d.max_batch = c.batch;
    d.threads = std::max(1, c.threads);
    decode_ = std::make_unique<DecodeStage>(d, encoder_info_);
  }
  int width = 0, height = 0;
  if (c.decode && c.view != View::none) {
#ifdef SPIKEVID_HAVE_IO
    ComposeConfig cc;
    cc.view = c.view == View::side_by_side ? "side-by-side" : "reconstruction";
    cc.overlay = c.overlay;
    cc.cells = encoder_info_.cells;
    cc.tiles = grid_;
    cc.window_s = encoder_info_.window_s;
    compose_ = std::make_unique<ComposeStage>(cc);
    width = compose_->width();
    height = compose_->height();
#else
    needs_io("a view");
#endif
  }

  plan_precision();
  plan_threads();  // in the chosen precision: it times the models

  // The outputs last: nothing is created or locked for a run that cannot start.
  if (!c.record_spikes.empty())
    recorder_stage_ = std::make_unique<SpikeRecorder>(
        c.record_spikes, spike_header(encoder_info_, grid_, source_description_), inputs);
  if (!c.send_spikes.empty())
    sender_stage_ =
        std::make_unique<SpikeSender>(c.send_spikes, encoder_info_, grid_, fps_, c.send_copies);
  if (c.decode) {
    switch (c.sink) {
      case SinkKind::null:
        sink_ = std::make_unique<NullSink>();
        break;
      case SinkKind::file:
#ifdef SPIKEVID_HAVE_IO
        sink_ = open_video_file_sink(c.output, width, height, fps_, inputs);
#else
        needs_io("a video file");
#endif
        break;
      case SinkKind::window:
#ifdef SPIKEVID_HAVE_IO
        sink_ = open_window_sink("spikevid", width, height, fps_);
#else
        needs_io("a window");
#endif
        break;
    }
  }
}

std::string Line::stream_counts() const {
  return spike_stream_ ? spike_stream_->describe_counts() : std::string();
}

bool Line::sender_answered() const { return !sender_stage_ || sender_stage_->answered(); }

std::string ThreadPlan::describe() const {
  std::ostringstream s;
  s << "threads" << (automatic ? " (auto, " + std::to_string(cores) + " cores)" : std::string())
    << ": ";
  if (encode_threads > 0) s << "encode " << encode_threads << (decode_threads > 0 ? ", " : "");
  if (decode_threads > 0) {
    s << "decode ";
    if (decode_workers > 1) s << decode_workers << " workers x ";
    s << decode_threads;
  }
  if (encode_ms > 0 && decode_ms > 0)
    s << std::fixed << std::setprecision(1) << " (one batch on one thread: encode " << encode_ms
      << " ms, decode " << decode_ms << " ms)";
  return s.str();
}

std::string PrecisionPlan::describe() const {
  std::string s = "precision";
  if (!automatic) {
    s += " " + std::string(to_string(decoder));
    if (encoder != decoder) s += " (the encoder " + std::string(to_string(encoder)) + ")";
    return s;
  }
  s += " (auto): ";
  if (!encoder_why.empty())
    s += "encoder " + std::string(to_string(encoder)) + " (" + encoder_why + ")" +
         (decoder_why.empty() ? "" : ", ");
  if (!decoder_why.empty())
    s += "decoder " + std::string(to_string(decoder)) + " (" + decoder_why + ")";
  return s;
}

// See PrecisionPlan.
void Line::plan_precision() {
  const auto& c = config_;
  auto& p = precision_;
  if (c.precision) {
    p.decoder = *c.precision;
    p.encoder = *c.precision == Precision::float16 ? Precision::float32 : *c.precision;
    return;
  }
  p.automatic = true;
  const bool cuda = c.device == Device::cuda;
  const bool fast_bf16 = !cuda && cpu_has_fast_bfloat16();
  // The lower precision this device runs fast, for one model's file.
  auto choose = [&](const nlohmann::json& meta, bool is_decoder, std::string& why) {
    const Precision lower = cuda ? Precision::float16 : Precision::bfloat16;
    if (cuda && !is_decoder) {
      why = "float16 is the decoder's alone";
      return Precision::float32;
    }
    if (!cuda && !fast_bf16) {
      why = "no AMX or AVX512-BF16 on this CPU";
      return Precision::float32;
    }
    const std::string name = to_string(lower);
    if (!precision_checked_ok(meta, name)) {
      why = name + " " + precision_check_summary(meta, name) +
            (precision_check_summary(meta, name) == "not checked" ? "" : ", beyond 0.005");
      return Precision::float32;
    }
    why = precision_check_summary(meta, name);
    return lower;
  };
  if (encode_) {
    p.encoder = choose(encoder_info_.meta, false, p.encoder_why);
    if (p.encoder != Precision::float32) encode_->set_precision(p.encoder);
  }
  if (decode_) {
    p.decoder = choose(decode_->decoder().info().meta, true, p.decoder_why);
    if (p.decoder != Precision::float32) decode_->set_precision(p.decoder);
  }
}

// See ThreadPlan. Explicit settings are taken as they are; auto measures.
void Line::plan_threads() {
  const auto& c = config_;
  auto& p = plan_;
  p.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  p.automatic = c.threads == 0;
  if (!p.automatic || c.device != Device::cpu) {
    const int t = std::max(1, c.threads);
    p.encode_threads = encode_ ? t : 0;
    p.decode_threads = decode_ ? t : 0;
    p.decode_workers = decode_ ? std::max(1, c.decode_workers) : 0;
  } else if (!decode_) {  // encode alone: all cores to it
    p.encode_threads = p.cores;
  } else if (!encode_) {  // a spike file: the decoder alone
    p.decode_threads = 1;
    p.decode_workers = c.decode_workers > 0 ? c.decode_workers : p.cores;
  } else {
    // One batch of mid-gray frames through both stages on this thread, three
    // times: the first call allocates and picks kernels, the faster of the
    // other two counts.
    encode_->set_threads(1);
    decode_->set_threads(1);
    auto one_batch = [&] {
      std::vector<FramePtr> frames;
      for (int i = 0; i < c.batch; ++i) {
        auto captured = std::make_unique<Captured>();
        captured->image.width = grid_.width();
        captured->image.height = grid_.height();
        captured->image.pixels.assign(
            static_cast<std::size_t>(captured->image.width) * captured->image.height, 128);
        frames.push_back(preprocess_->process(std::move(captured)));
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto spikes = encode_->process_batch(std::move(frames));
      const auto t1 = std::chrono::steady_clock::now();
      (void)decode_->process_batch(std::move(spikes));
      const auto t2 = std::chrono::steady_clock::now();
      const double e = std::chrono::duration<double, std::milli>(t1 - t0).count();
      const double d = std::chrono::duration<double, std::milli>(t2 - t1).count();
      p.encode_ms = p.encode_ms > 0 ? std::min(p.encode_ms, e) : e;
      p.decode_ms = p.decode_ms > 0 ? std::min(p.decode_ms, d) : d;
    };
    one_batch();
    p.encode_ms = p.decode_ms = 0;
    one_batch();
    one_batch();
    encode_->restart();
    decode_->restart();
    const double decode_share = p.decode_ms / std::max(p.encode_ms + p.decode_ms, 1e-9);
    const auto share_of = [&](double share) {
      return std::clamp(static_cast<int>(std::lround(p.cores * share)), 1, p.cores);
    };
    p.decode_threads = 1;
    p.decode_workers = c.decode_workers > 0 ? c.decode_workers : share_of(decode_share);
    p.encode_threads = share_of(1 - decode_share);
  }
  // A temporal decoder takes each stream's frames in order: one worker, the
  // workers' share of the cores as its threads instead.
  if (decode_ && decode_->decoder().temporal() && p.decode_workers > 1) {
    if (c.decode_workers > 1)
      throw std::invalid_argument("--decode-workers " + std::to_string(c.decode_workers) + ": " +
                                  decode_->decoder().info().path +
                                  " is temporal and decodes each stream's frames in order, on "
                                  "one worker");
    p.decode_threads = std::max(p.decode_threads, p.decode_workers);
    p.decode_workers = 1;
  }
  if (encode_) encode_->set_threads(p.encode_threads);
  if (decode_) decode_->set_threads(p.decode_threads);
}

Line::~Line() {
  try {
    finish_outputs(false);
  } catch (...) {
  }
}

template <class Port>
void Line::add_tail(Port spikes) {
  auto& p = *pipeline_;
  const auto batch = static_cast<std::size_t>(config_.batch);
  auto recon = p.template add_batch_transform<ReconstructionPtr>(
      "decode", spikes, batch,
      [this](std::vector<SpikesPtr> v) { return decode_->process_batch(std::move(v)); },
      std::nullopt, plan_.decode_workers, batch_fill());
  const auto delivered = [this](const FrameMeta& m) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    if (config_.on_output) config_.on_output(m);
  };
#ifdef SPIKEVID_HAVE_IO
  if (compose_) {
    auto composed = p.template add_transform<ComposedPtr>(
        "compose", recon, [this](ReconstructionPtr r) { return compose_->process(std::move(r)); });
    compose_->set_stage_names(p.stage_names());
    p.add_sink("sink", composed, [this, delivered](ComposedPtr f) {
      sink_->write(*f);
      delivered(f->meta);
    });
    return;
  }
#endif
  p.add_sink("sink", recon, [this, delivered](ReconstructionPtr r) {
    sink_->write(Composed{r->meta, 0, 0, {}});
    delivered(r->meta);
  });
}

void Line::build() {
  PipelineConfig pc;
  pc.channel = config_.pacing == Pacing::live ? ChannelConfig{1, Overflow::keep_latest}
                                              : ChannelConfig{config_.capacity, Overflow::block};
  pc.warmup_frames = config_.warmup;
  pc.stop_flag = config_.stop_flag;
  pipeline_ = std::make_unique<Pipeline>(pc);
  auto& p = *pipeline_;
  const auto max = config_.max_frames;
  if (spike_file_) {
    auto spikes = p.add_source<SpikesPtr>("read", [this, max]() -> std::optional<SpikesPtr> {
      if (max > 0 && emitted_ >= max) return std::nullopt;
      if (config_.paced) {  // frame n leaves at n / fps after the first
        using namespace std::chrono;
        const auto now = steady_clock::now();
        if (emitted_ == 0) paced_from_ = now;
        const auto due = paced_from_ + duration_cast<steady_clock::duration>(
                                           duration<double>(static_cast<double>(emitted_) / fps_));
        if (due > now) std::this_thread::sleep_until(due);
      }
      auto s = spike_file_->next();
      if (s) ++emitted_;
      return s;
    });
    spikes = add_spike_outputs(spikes);
    if (!decode_) {
      add_spikes_sink(spikes);
      return;
    }
    add_tail(spikes);
    return;
  }
  if (spike_stream_) {
    auto spikes = p.add_source<SpikesPtr>("receive", [this, max]() -> std::optional<SpikesPtr> {
      if (max > 0 && emitted_ >= max) return std::nullopt;
      auto s = spike_stream_->next();
      if (s && *s) ++emitted_;
      return s;
    });
    add_tail(add_spike_outputs(spikes));
    return;
  }
  if (capture_->info().live && config_.source == SourceKind::video)
    p.add_upstream_edge("camera->capture", [this] {
      ChannelStats s;
      s.capacity = 1;
      s.overflow = Overflow::keep_latest;
      s.pushed = capture_->received();
      s.dropped = capture_->dropped();
      s.popped = s.pushed - s.dropped;
      return s;
    });
  auto captured = p.add_source<CapturedPtr>("capture", [this, max]() -> std::optional<CapturedPtr> {
    if (max > 0 && emitted_ >= max) return std::nullopt;
    auto c = capture_->next();
    if (c) ++emitted_;
    return c;
  });
  auto frames = p.add_transform<FramePtr>(
      "preprocess", captured, [this](CapturedPtr c) { return preprocess_->process(std::move(c)); });
  auto spikes = p.add_batch_transform<SpikesPtr>(
      "encode", frames, static_cast<std::size_t>(config_.batch),
      [this](std::vector<FramePtr> v) { return encode_->process_batch(std::move(v)); },
      std::nullopt, 1, batch_fill());
  spikes = add_spike_outputs(spikes);
  if (!decode_) {
    add_spikes_sink(spikes);
    return;
  }
  add_tail(spikes);
}

// Where the spikes go on to more than one place: the recorder and the
// sender as transforms before the decoder, or before the other of the two.
template <class Port>
Port Line::add_spike_outputs(Port spikes) {
  auto& p = *pipeline_;
  if (recorder_stage_ && (decode_ || sender_stage_))
    spikes = p.add_transform<SpikesPtr>(
        "record", spikes, [this](SpikesPtr s) { return recorder_stage_->process(std::move(s)); });
  if (sender_stage_ && decode_)
    spikes = p.add_transform<SpikesPtr>(
        "send", spikes, [this](SpikesPtr s) { return sender_stage_->process(std::move(s)); });
  return spikes;
}

// The line ends in the sender or the recorder (encode).
template <class Port>
void Line::add_spikes_sink(Port spikes) {
  pipeline_->add_sink(sender_stage_ ? "send" : "record", spikes, [this](SpikesPtr s) {
    const auto meta = s->meta;
    if (sender_stage_)
      sender_stage_->process(std::move(s));
    else
      recorder_stage_->process(std::move(s));
    delivered_.fetch_add(1, std::memory_order_relaxed);
    if (config_.on_output) config_.on_output(meta);
  });
}

void Line::finish_outputs(bool wait_for_receiver) {
  // A network sender whose receiver has not answered yet waits for it, unless
  // the run was stopped (Ctrl-C) or failed: then what it held is dropped.
  const bool wait = wait_for_receiver && !(pipeline_ && pipeline_->stop_requested());
  // All, whatever the first does; then its error, if any.
  std::exception_ptr error;
  for (auto finish : {std::function<void()>([this] {
                        if (recorder_stage_) recorder_stage_->finish();
                      }),
                      std::function<void()>([this, wait] {
                        if (sender_stage_) sender_stage_->finish(wait);
                      }),
                      std::function<void()>([this] {
                        if (sink_) sink_->finish();
                      })}) {
    try {
      finish();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

LineResult Line::run() {
  if (ran_) throw std::logic_error("Line::run() may be called once");
  ran_ = true;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    build();
    if (stop_pending_) pipeline_->stop();
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    pipeline_->run();
  } catch (...) {
    // Keep what was written: the spike file holds every frame so far, the
    // video is finalized (it plays); then the stage's error goes to the user.
    try {
      finish_outputs(false);
    } catch (...) {
    }
    throw;
  }
  finish_outputs(true);
  LineResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.frames_in = emitted_;
  r.frames_out = delivered_.load();
  r.interrupted = pipeline_->stop_requested();
  r.mean_ssim = r.mean_psnr = std::nan("");
#ifdef SPIKEVID_HAVE_IO
  if (compose_) {
    r.mean_ssim = compose_->mean_ssim();
    r.mean_psnr = compose_->mean_psnr();
  }
#endif
  return r;
}

void Line::stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (pipeline_)
    pipeline_->stop();
  else
    stop_pending_ = true;
}

const LatencyRecorder& Line::recorder() const {
  if (!pipeline_) throw std::logic_error("Line::recorder() before run()");
  return pipeline_->recorder();
}

std::vector<std::string> Line::stage_names() const {
  return pipeline_ ? pipeline_->stage_names() : std::vector<std::string>{};
}

}  // namespace spikevid
