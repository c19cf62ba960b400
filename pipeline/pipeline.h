#pragma once
// Pipeline: a line of typed stages, each on its own thread, joined by channels.
//
//   Pipeline p(config);
//   auto frames = p.add_source("capture", [&] { return camera.next(); });  // optional<FramePtr>
//   auto spikes = p.add_transform("encode", frames, [&](FramePtr f) { return enc.process(f); });
//   auto images = p.add_batch_transform("decode", spikes, 8, [&](std::vector<SpikesPtr> v) {...});
//   p.add_sink("show", images, [&](ImagePtr x) { window.show(x); });
//   p.run();  // until end of stream or stop; rethrows the first stage error
//
// Each add_* after the source names the edge in front of the new stage: the
// config's channel default unless `edge` is given. The output type comes from
// the function, or may be given: add_transform<SpikesPtr>(...).
// Stop from a POSIX signal handler: set the std::atomic<bool> named by
// PipelineConfig::stop_flag; run() polls it and stops within kStopPollInterval.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/batch_runner.h"
#include "pipeline/item.h"
#include "pipeline/latency_recorder.h"
#include "pipeline/pipeline_config.h"
#include "pipeline/port.h"
#include "pipeline/sink_runner.h"
#include "pipeline/source_runner.h"
#include "pipeline/transform_runner.h"

namespace spikevid {

// How often run() looks at PipelineConfig::stop_flag.
constexpr std::chrono::milliseconds kStopPollInterval{10};

class Pipeline {
 public:
  // Thread-safe: no. Blocks: no. Allocates: yes.
  explicit Pipeline(PipelineConfig config = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The builder, all before run(): thread-safe: no. Blocks: no. Allocates: yes.
  // Each throws std::logic_error if the line would not be a line (a port used
  // twice, a stage after the sink, no source yet), std::length_error past kMaxStages.

  // The first stage; fn() -> std::optional<T> (nullopt: end of stream).
  template <typename Out = detail::Deduced, typename F>
  Port<SourceItem<Out, F>> add_source(std::string name, F fn);

  // fn(T) -> U.
  template <typename Out = detail::Deduced, typename In, typename F>
  Port<TransformItem<Out, F, In>> add_transform(std::string name, Port<In> in, F fn,
                                                std::optional<ChannelConfig> edge = {});

  // fn(std::vector<T>) -> std::vector<U>, on 1..max_batch items: those already
  // waiting, or with BatchFill::full max_batch of them (fewer only at the end).
  // workers > 1: that many threads call fn on successive batches at once, the
  // outputs leave in input order (batch_runner.h); fn must be thread-safe.
  template <typename Out = detail::Deduced, typename In, typename F>
  Port<BatchItem<Out, F, In>> add_batch_transform(std::string name, Port<In> in,
                                                  std::size_t max_batch, F fn,
                                                  std::optional<ChannelConfig> edge = {},
                                                  int workers = 1,
                                                  BatchFill fill = BatchFill::waiting);

  // The last stage; fn(T), its return value ignored.
  template <typename In, typename F>
  void add_sink(std::string name, Port<In> in, F fn, std::optional<ChannelConfig> edge = {});

  // Runs every stage on its own thread until end of stream reached the sink or
  // stop(); joins them all; rethrows the first stage exception (the others are
  // stopped first). Once per pipeline. Thread-safe: no. Blocks: yes. Allocates: yes.
  void run();

  // Closes every channel: each stage returns as soon as its current call does.
  // Thread-safe: yes, from any thread once run() started. Blocks: no. Allocates: no.
  void stop();

  // Thread-safe: yes. Blocks: no. Allocates: no.
  bool stop_requested() const;

  // An edge in front of the source, outside the pipeline (a camera's buffer
  // that drops frames the source did not take in time): listed first among
  // the edges, its counters read from `stats` (called once per edge_stats(),
  // from any thread). Before run(). Thread-safe: no. Blocks: no. Allocates: yes.
  void add_upstream_edge(std::string name, std::function<ChannelStats()> stats);

  // Every edge's counters now, in line order; exact after run().
  // Thread-safe: yes once built. Blocks: no. Allocates: yes.
  std::vector<EdgeStats> edge_stats() const;

  // Stage names in line order (index = Port::stage_index()).
  // Thread-safe: yes once built. Blocks: no. Allocates: yes.
  std::vector<std::string> stage_names() const;

  // The stamps of every frame that reached the sink; throws std::logic_error before run().
  // Thread-safe: after run() returned. Blocks: no. Allocates: no.
  const LatencyRecorder& recorder() const;

 private:
  struct Edge {
    std::string name;
    std::unique_ptr<ChannelBase> channel;
  };

  template <typename T>
  Channel<T>* connect(const Port<T>& from, const std::string& to,
                      const std::optional<ChannelConfig>& edge);
  void check_can_add(const std::string& name, bool is_source) const;
  void check_port(int stage_index, const void* output, bool connected) const;
  int next_index() const { return static_cast<int>(stages_.size()); }
  void run_stage(detail::StageRunner& stage);

  PipelineConfig config_;
  detail::RunContext context_;
  std::vector<std::unique_ptr<detail::StageRunner>> stages_;
  std::vector<Edge> edges_;
  std::vector<std::pair<std::string, std::function<ChannelStats()>>> upstream_;
  std::unique_ptr<LatencyRecorder> recorder_;
  bool has_sink_ = false;
  bool ran_ = false;
  std::mutex mutex_;  // guards running_ and error_
  std::condition_variable done_;
  int running_ = 0;
  std::exception_ptr error_;
};

}  // namespace spikevid

#include "pipeline/pipeline_impl.h"
