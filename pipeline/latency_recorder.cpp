#include "pipeline/latency_recorder.h"

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "pipeline/json_text.h"

namespace spikevid {
namespace {

constexpr double kNsPerMs = 1e6;
constexpr double kNsPerUs = 1e3;
constexpr std::size_t kSeq = 0;
constexpr std::size_t kCapture = 1;
constexpr std::size_t kFirstStamp = 2;

}  // namespace

LatencyRecorder::LatencyRecorder(std::vector<std::string> stage_names, std::size_t warmup_frames)
    : names_(std::move(stage_names)),
      warmup_frames_(warmup_frames),
      stride_(kFirstStamp + 2 * names_.size()) {
  if (names_.empty() || names_.size() > static_cast<std::size_t>(kMaxStages)) {
    throw std::invalid_argument("a latency recorder needs 1 to " + std::to_string(kMaxStages) +
                                " stage names, not " + std::to_string(names_.size()));
  }
}

void LatencyRecorder::record(const FrameMeta& meta) {
  if (recorded_ % kChunkFrames == 0) {
    chunks_.emplace_back();
    chunks_.back().reserve(kChunkFrames * stride_);
  }
  std::vector<std::int64_t>& chunk = chunks_.back();
  chunk.push_back(static_cast<std::int64_t>(meta.seq));
  chunk.push_back(meta.capture_ns);
  const std::size_t n = names_.size();
  chunk.insert(chunk.end(), meta.enter_ns.begin(), meta.enter_ns.begin() + n);
  chunk.insert(chunk.end(), meta.leave_ns.begin(), meta.leave_ns.begin() + n);
  ++recorded_;
}

void LatencyRecorder::set_edges(std::vector<EdgeStats> edges) { edges_ = std::move(edges); }

std::int64_t LatencyRecorder::at(std::size_t frame, std::size_t field) const {
  return chunks_[frame / kChunkFrames][(frame % kChunkFrames) * stride_ + field];
}
std::int64_t LatencyRecorder::enter(std::size_t frame, int stage) const {
  return at(frame, kFirstStamp + static_cast<std::size_t>(stage));
}
std::int64_t LatencyRecorder::leave(std::size_t frame, int stage) const {
  return at(frame, kFirstStamp + names_.size() + static_cast<std::size_t>(stage));
}

LatencySummary LatencyRecorder::summary() const {
  LatencySummary summary;
  const std::size_t first = std::min(warmup_frames_, recorded_);
  const std::size_t count = recorded_ - first;
  const int stages = static_cast<int>(names_.size());
  const int sink = stages - 1;
  summary.frames = count;
  summary.warmup_frames = first;
  summary.edges = edges_;

  std::vector<double> samples(count);
  for (int s = 0; s < stages; ++s) {
    StageLatency stage{names_[s], {}, {}};
    for (std::size_t i = 0; i < count; ++i) {
      samples[i] = static_cast<double>(leave(first + i, s) - enter(first + i, s)) / kNsPerMs;
    }
    stage.service = compute_latency_stats(samples);
    if (s > 0) {
      for (std::size_t i = 0; i < count; ++i) {
        samples[i] = static_cast<double>(enter(first + i, s) - leave(first + i, s - 1)) / kNsPerMs;
      }
      stage.queue_wait = compute_latency_stats(samples);
    }
    summary.stages.push_back(std::move(stage));
  }
  for (std::size_t i = 0; i < count; ++i) {
    samples[i] = static_cast<double>(leave(first + i, sink) - at(first + i, kCapture)) / kNsPerMs;
  }
  summary.end_to_end = compute_latency_stats(samples);
  if (count >= 2) {
    const std::int64_t span = leave(recorded_ - 1, sink) - leave(first, sink);
    if (span > 0) summary.fps = static_cast<double>(count - 1) * 1e9 / static_cast<double>(span);
  }
  return summary;
}

void LatencyRecorder::write_trace(std::ostream& out) const {
  const int stages = static_cast<int>(names_.size());
  std::int64_t origin = 0;
  for (std::size_t i = 0; i < recorded_; ++i) {
    origin = i == 0 ? enter(i, 0) : std::min(origin, enter(i, 0));
  }
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  // Track names and order first; tid 0 is avoided, viewers treat it as the idle task.
  for (int s = 0; s < stages; ++s) {
    if (s > 0) out << ",\n";
    out << "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << s + 1
        << ",\"args\":{\"name\":" << json_string(names_[s]) << "}},\n"
        << "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":" << s + 1
        << ",\"args\":{\"sort_index\":" << s << "}}";
  }
  for (std::size_t i = 0; i < recorded_; ++i) {
    for (int s = 0; s < stages; ++s) {
      out << ",\n{\"name\":" << json_string(names_[s])
          << ",\"cat\":\"stage\",\"ph\":\"X\",\"pid\":1,\"tid\":" << s + 1
          << ",\"ts\":" << json_number(static_cast<double>(enter(i, s) - origin) / kNsPerUs)
          << ",\"dur\":" << json_number(static_cast<double>(leave(i, s) - enter(i, s)) / kNsPerUs)
          << ",\"args\":{\"seq\":" << at(i, kSeq) << "}}";
    }
  }
  out << "\n]}\n";
}

}  // namespace spikevid
