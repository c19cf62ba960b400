#include "pipeline/latency_recorder.h"

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "pipeline/json_text.h"

namespace spikevid {
namespace {

constexpr double kNsPerUs = 1e3;

}  // namespace

LatencyRecorder::LatencyRecorder(std::vector<std::string> stage_names, std::size_t warmup_frames)
    : names_(std::move(stage_names)), warmup_frames_(warmup_frames) {
  if (names_.empty() || names_.size() > static_cast<std::size_t>(kMaxStages)) {
    throw std::invalid_argument("a latency recorder needs 1 to " + std::to_string(kMaxStages) +
                                " stage names, not " + std::to_string(names_.size()));
  }
  service_.resize(names_.size());
  wait_.resize(names_.size());
  head_.reserve(kTraceFrames);
  tail_.reserve(kTraceFrames);
}

void LatencyRecorder::keep_for_trace(const FrameMeta& meta) {
  if (head_.size() < kTraceFrames) {
    head_.push_back(meta);
  } else if (tail_.size() < kTraceFrames) {
    tail_.push_back(meta);
  } else {  // the ring: frame r overwrites the oldest of the tail
    tail_[(recorded_ - kTraceFrames) % kTraceFrames] = meta;
  }
}

void LatencyRecorder::record(const FrameMeta& meta) {
  keep_for_trace(meta);
  const int stages = static_cast<int>(names_.size()), sink = stages - 1;
  if (recorded_++ < warmup_frames_) return;
  for (int s = 0; s < stages; ++s) {
    service_[static_cast<std::size_t>(s)].add(meta.service_ns(s));
    if (s > 0) wait_[static_cast<std::size_t>(s)].add(meta.queue_wait_ns(s));
  }
  end_to_end_.add(meta.end_to_end_ns(sink));
  if (end_to_end_.count() == 1) first_sink_ns_ = meta.leave_ns[static_cast<std::size_t>(sink)];
  last_sink_ns_ = meta.leave_ns[static_cast<std::size_t>(sink)];
}

void LatencyRecorder::set_edges(std::vector<EdgeStats> edges) { edges_ = std::move(edges); }

LatencySummary LatencyRecorder::summary() const {
  LatencySummary summary;
  summary.frames = end_to_end_.count();
  summary.warmup_frames = std::min(warmup_frames_, recorded_);
  summary.edges = edges_;
  for (std::size_t s = 0; s < names_.size(); ++s)
    summary.stages.push_back({names_[s], service_[s].stats(), wait_[s].stats()});
  summary.end_to_end = end_to_end_.stats();
  if (summary.frames >= 2 && last_sink_ns_ > first_sink_ns_)
    summary.fps = static_cast<double>(summary.frames - 1) * 1e9 /
                  static_cast<double>(last_sink_ns_ - first_sink_ns_);
  return summary;
}

void LatencyRecorder::write_trace(std::ostream& out) const {
  const int stages = static_cast<int>(names_.size());
  std::vector<const FrameMeta*> frames;
  for (const auto& m : head_) frames.push_back(&m);
  for (const auto& m : tail_) frames.push_back(&m);
  std::sort(frames.begin(), frames.end(),
            [](const FrameMeta* a, const FrameMeta* b) { return a->seq < b->seq; });
  std::int64_t origin = 0;
  for (std::size_t i = 0; i < frames.size(); ++i)
    origin = i == 0 ? frames[i]->enter_ns[0] : std::min(origin, frames[i]->enter_ns[0]);
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  // Track names and order first; tid 0 is avoided, viewers treat it as the idle task.
  for (int s = 0; s < stages; ++s) {
    if (s > 0) out << ",\n";
    out << "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << s + 1
        << ",\"args\":{\"name\":" << json_string(names_[static_cast<std::size_t>(s)]) << "}},\n"
        << "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":" << s + 1
        << ",\"args\":{\"sort_index\":" << s << "}}";
  }
  for (const FrameMeta* m : frames) {
    for (int s = 0; s < stages; ++s) {
      const auto enter = m->enter_ns[static_cast<std::size_t>(s)];
      out << ",\n{\"name\":" << json_string(names_[static_cast<std::size_t>(s)])
          << ",\"cat\":\"stage\",\"ph\":\"X\",\"pid\":1,\"tid\":" << s + 1
          << ",\"ts\":" << json_number(static_cast<double>(enter - origin) / kNsPerUs)
          << ",\"dur\":" << json_number(static_cast<double>(m->service_ns(s)) / kNsPerUs)
          << ",\"args\":{\"seq\":" << m->seq << "}}";
    }
  }
  out << "\n]}\n";
}

}  // namespace spikevid
