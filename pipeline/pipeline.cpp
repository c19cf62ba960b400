#include "pipeline/pipeline.h"

#include <stdexcept>
#include <thread>

namespace spikevid {

Pipeline::Pipeline(PipelineConfig config) : config_(std::move(config)) {
  if (!config_.clock) throw std::invalid_argument("PipelineConfig::clock is empty");
  context_.clock = config_.clock;
}

Pipeline::~Pipeline() = default;

void Pipeline::check_can_add(const std::string& name, bool is_source) const {
  if (ran_) throw std::logic_error("stage '" + name + "': the pipeline has already run");
  if (has_sink_) throw std::logic_error("stage '" + name + "': the sink must be the last stage");
  if (is_source != stages_.empty()) {
    throw std::logic_error("stage '" + name + "': a pipeline has exactly one source, added first");
  }
  if (stages_.size() >= static_cast<std::size_t>(kMaxStages)) {
    throw std::length_error("stage '" + name + "': a pipeline has at most " +
                            std::to_string(kMaxStages) + " stages");
  }
}

void Pipeline::check_port(int stage_index, const void* output, bool connected) const {
  if (stage_index < 0 || stage_index >= next_index() || stages_[stage_index]->output() != output) {
    throw std::logic_error("a port from another pipeline");
  }
  if (connected) {
    throw std::logic_error("stage '" + stages_[stage_index]->name() +
                           "' already feeds a stage: a pipeline is a line");
  }
}

void Pipeline::run() {
  if (ran_) throw std::logic_error("Pipeline::run() may be called once");
  if (!has_sink_) throw std::logic_error("a pipeline needs a source and a sink to run");
  ran_ = true;
  recorder_ = std::make_unique<LatencyRecorder>(stage_names(), config_.warmup_frames);
  context_.recorder = config_.record_latency ? recorder_.get() : nullptr;

  std::vector<std::thread> threads;
  threads.reserve(stages_.size());
  running_ = static_cast<int>(stages_.size());
  try {
    for (auto& stage : stages_) threads.emplace_back(&Pipeline::run_stage, this, std::ref(*stage));
  } catch (...) {  // no thread for one more stage: stop those started, then report
    stop();
    for (auto& thread : threads) thread.join();
    throw;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    while (running_ > 0) {
      if (config_.stop_flag == nullptr) {
        done_.wait(lock);
      } else if (!done_.wait_for(lock, kStopPollInterval, [this] { return running_ == 0; }) &&
                 config_.stop_flag->load(std::memory_order_relaxed) && !stop_requested()) {
        lock.unlock();
        stop();
        lock.lock();
      }
    }
  }
  for (auto& thread : threads) thread.join();
  recorder_->set_edges(edge_stats());
  if (error_) std::rethrow_exception(error_);
}

void Pipeline::run_stage(detail::StageRunner& stage) {
  try {
    stage.run();
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    stop();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  --running_;
  done_.notify_all();
}

void Pipeline::stop() {
  context_.stopping.store(true, std::memory_order_relaxed);
  for (auto& edge : edges_) edge.channel->close();
}

bool Pipeline::stop_requested() const { return context_.stopping.load(std::memory_order_relaxed); }

void Pipeline::add_upstream_edge(std::string name, std::function<ChannelStats()> stats) {
  if (ran_) throw std::logic_error("edge '" + name + "': the pipeline has already run");
  upstream_.emplace_back(std::move(name), std::move(stats));
}

std::vector<EdgeStats> Pipeline::edge_stats() const {
  std::vector<EdgeStats> stats;
  stats.reserve(upstream_.size() + edges_.size());
  for (const auto& [name, read] : upstream_) stats.push_back(EdgeStats{name, read()});
  for (const auto& edge : edges_) stats.push_back(EdgeStats{edge.name, edge.channel->stats()});
  return stats;
}

std::vector<std::string> Pipeline::stage_names() const {
  std::vector<std::string> names;
  names.reserve(stages_.size());
  for (const auto& stage : stages_) names.push_back(stage->name());
  return names;
}

const LatencyRecorder& Pipeline::recorder() const {
  if (!recorder_) throw std::logic_error("Pipeline::recorder() before run()");
  return *recorder_;
}

}  // namespace spikevid
