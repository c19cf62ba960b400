#include "stages/spike_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "io/output_file.h"
#include "io/spike_transport.h"
#include "models/decoder.h"
#include "pipeline/latency_summary.h"
#include "pipeline/pipeline.h"
#include "stages/compose.h"
#include "stages/sink.h"
#include "stages/video_sinks.h"

namespace spikevid {

std::string stream_output_name(const std::string& pattern, int index) {
  int conversions = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    if (j < pattern.size() && pattern[j] == '0') ++j;
    while (j < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[j]))) ++j;
    if (j >= pattern.size() || pattern[j] != 'd' || j - i > 4)
      throw std::invalid_argument(pattern +
                                  ": an output pattern takes one %d (or %02d ...) for the "
                                  "stream's number, and %% for a percent sign");
    ++conversions;
    i = j;
  }
  if (conversions != 1)
    throw std::invalid_argument(pattern +
                                ": an output pattern needs one %d (or %02d ...) for the stream's "
                                "number, e.g. out/stream-%02d.mp4");
  char buf[4096];
  const int n = std::snprintf(buf, sizeof buf, pattern.c_str(), index);
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof buf)
    throw std::invalid_argument(pattern + ": too long");
  return buf;
}

struct SpikeServer::Stream {
  int index = 0;
  std::string uri, output;
  std::unique_ptr<SpikeStreamSource> source;
  bool ended = false;  // receive thread
  bool checked = false;
  std::string refused;
  // The write thread's; read after run().
  std::unique_ptr<ComposeStage> compose;
  std::unique_ptr<FrameSink> sink;
  std::vector<double> latency_ms;
  std::int64_t written = 0;
};

SpikeServer::SpikeServer(ServeConfig config) : config_(std::move(config)) {
  auto& c = config_;
  if (c.streams < 1 || c.streams > 1024)
    throw std::invalid_argument("--streams " + std::to_string(c.streams) + ": 1 to 1024");
  if (c.max_batch < 1) throw std::invalid_argument("--batch must be at least 1");
  const auto uri = stream::parse_stream_uri(c.listen, true);
  if (uri.port + c.streams - 1 > 65535)
    throw std::invalid_argument(c.listen + ": ports " + std::to_string(uri.port) + " to " +
                                std::to_string(uri.port + c.streams - 1) +
                                " (one a stream) go beyond 65535");
  std::vector<std::string> outputs;
  for (int k = 0; k < c.streams; ++k) {
    auto s = std::make_unique<Stream>();
    s->index = k;
    s->uri = stream::uri_with_port_offset(uri, k);
    if (!c.output_pattern.empty()) s->output = stream_output_name(c.output_pattern, k);
    outputs.push_back(s->output);
    streams_.push_back(std::move(s));
  }
  check_outputs(outputs, {});
  // The decoder before the ports: a wrong model file is the likelier mistake.
  encoder_ = load_encoder(c.encoder, torch::kCPU)->info();
  c.decoder.max_batch = c.max_batch;
  decode_ = std::make_unique<DecodeStage>(c.decoder, encoder_);
  for (auto& s : streams_)
    s->source = std::make_unique<SpikeStreamSource>(s->uri, encoder_, c.encoder, c.idle_timeout_s,
                                                    &stop_, false);
}

SpikeServer::~SpikeServer() {
  for (auto& s : streams_)
    if (s->sink) try {
        s->sink->finish();
      } catch (...) {
      }
}

void SpikeServer::stop() {
  stop_.store(true);  // the receive stage ends; what is queued is written
}

std::vector<ServedStream> SpikeServer::run() {
  if (pipeline_) throw std::logic_error("SpikeServer::run() may be called once");
  auto& c = config_;
  PipelineConfig pc;
  pc.channel = ChannelConfig{std::max<std::size_t>(16, 4 * streams_.size()), Overflow::block};
  pc.warmup_frames = c.warmup;
  pc.stop_flag = c.stop_flag;
  pipeline_ = std::make_unique<Pipeline>(pc);
  auto& p = *pipeline_;

  // receive: every stream polled in turn; what has arrived is taken at once
  // and stamped, so a frame's latency counts from the transport.
  std::deque<SpikesPtr> ready;
  auto frames = p.add_source<SpikesPtr>("receive", [this, &ready]() -> std::optional<SpikesPtr> {
    if (ready.empty()) {
      bool open = false;
      for (auto& s : streams_) {
        if (s->ended) continue;
        open = true;
        try {
          for (int i = 0; i < 16; ++i) {  // a bound, so one stream cannot starve the others
            auto m = s->source->next(0);
            if (!m) {
              s->ended = true;
              s->source->close();
              break;
            }
            if (!s->checked && s->source->started()) {
              s->checked = true;
              const auto g = s->source->grid();
              const auto& want = config_.decoder.tiles;
              if (g.rows != want.rows || g.cols != want.cols || g.overlap != want.overlap)
                throw std::runtime_error(s->uri + ": the stream's tiles are " +
                                         std::to_string(g.rows) + "x" + std::to_string(g.cols) +
                                         ", the server's " + std::to_string(want.rows) + "x" +
                                         std::to_string(want.cols) + " (--tiles)");
              if (s->source->encoder().bins != encoder_.bins)
                throw std::runtime_error(
                    s->uri + ": the stream has " + std::to_string(s->source->encoder().bins) +
                    " bins a window, the decoder takes " + std::to_string(encoder_.bins));
            }
            if (!*m) break;  // nothing more waiting on this stream
            (*m)->stream = s->index;
            (*m)->received_ns = now_ns();
            ready.push_back(std::move(*m));
          }
        } catch (const std::runtime_error& e) {  // this stream's, not the server's
          std::cerr << "spikevid serve: stream " << s->index << " refused: " << e.what() << "\n";
          s->refused = e.what();
          s->ended = true;
          s->source->close();
        }
      }
      if (!open || stop_.load()) return std::nullopt;
      if (ready.empty()) {
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        return SpikesPtr{};
      }
    }
    auto f = std::move(ready.front());
    ready.pop_front();
    return f;
  });
  // decode: whatever is waiting, up to max_batch frames of any streams.
  auto recon = p.add_batch_transform<ReconstructionPtr>(
      "decode", frames, static_cast<std::size_t>(c.max_batch),
      [this](std::vector<SpikesPtr> v) {
        ++calls_;
        decoded_ += static_cast<std::int64_t>(v.size());
        largest_batch_ = std::max(largest_batch_, static_cast<int>(v.size()));
        return decode_->process_batch(std::move(v));
      },
      std::nullopt, 1, BatchFill::waiting);
  p.add_sink("write", recon, [this](ReconstructionPtr r) {
    auto& s = *streams_.at(static_cast<std::size_t>(r->stream));
    if (!s.output.empty()) {
      if (!s.compose) {
        ComposeConfig cc;
        cc.view = "reconstruction";
        cc.scale = 1;  // the model's pixels: many streams, one CPU
        cc.overlay = false;
        cc.cells = encoder_.cells;
        cc.tiles = config_.decoder.tiles;
        cc.window_s = s.source->encoder().window_s;
        s.compose = std::make_unique<ComposeStage>(cc);
        s.sink = open_video_file_sink(s.output, s.compose->width(), s.compose->height(),
                                      s.source->fps(), {});
      }
      const auto received = r->received_ns;
      auto composed = s.compose->process(std::move(r));
      s.sink->write(*composed);
      s.latency_ms.push_back(static_cast<double>(now_ns() - received) / 1e6);
    } else {
      s.latency_ms.push_back(static_cast<double>(now_ns() - r->received_ns) / 1e6);
    }
    ++s.written;
  });

  std::exception_ptr error;
  try {
    p.run();
  } catch (...) {
    error = std::current_exception();
  }
  for (auto& s : streams_) {
    if (!s->sink) continue;
    try {
      s->sink->finish();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);

  std::vector<ServedStream> out;
  for (auto& s : streams_) {
    ServedStream r;
    r.index = s->index;
    r.uri = s->uri;
    r.output = s->sink ? s->output : "";
    r.started = s->source->started();
    r.refused = s->refused;
    r.counts = s->source->counts();
    r.written = s->written;
    auto v = s->latency_ms;
    // The first frames of each stream warm the decoder's kernels up.
    const auto skip = std::min(v.size(), c.warmup);
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(skip));
    std::sort(v.begin(), v.end());
    if (!v.empty()) {
      r.p50_ms = percentile(v, 0.5);
      r.p99_ms = percentile(v, 0.99);
      r.max_ms = v.back();
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace spikevid
