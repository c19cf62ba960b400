#include "pipeline/latency_report.h"

#include <cstdio>
#include <ostream>
#include <string>

#include "pipeline/json_text.h"

namespace spikevid {
namespace {

std::string row(const char* name, const char* what, const LatencyStats& s) {
  char line[200];
  std::snprintf(line, sizeof line, "%-20s %-8s %8zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name,
                what, s.count, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms, s.mean_ms);
  return line;
}

void json_stats(std::ostream& out, const LatencyStats& s) {
  out << "{\"count\":" << s.count << ",\"p50_ms\":" << json_number(s.p50_ms)
      << ",\"p90_ms\":" << json_number(s.p90_ms) << ",\"p99_ms\":" << json_number(s.p99_ms)
      << ",\"p999_ms\":" << json_number(s.p999_ms) << ",\"max_ms\":" << json_number(s.max_ms)
      << ",\"mean_ms\":" << json_number(s.mean_ms) << "}";
}

// RFC 4180: quote a field that holds a comma, quote or line break; double the quotes.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void csv_stats(std::ostream& out, const char* kind, const std::string& name,
               const LatencyStats& s) {
  out << kind << ',' << csv_field(name) << ',' << s.count << ',' << json_number(s.p50_ms) << ','
      << json_number(s.p90_ms) << ',' << json_number(s.p99_ms) << ',' << json_number(s.p999_ms)
      << ',' << json_number(s.max_ms) << ',' << json_number(s.mean_ms) << ",,,,\n";
}

}  // namespace

void write_table(std::ostream& out, const LatencySummary& summary) {
  char line[200];
  std::snprintf(line, sizeof line, "latency: %llu frames after %llu warm-up, %.2f frames/s\n",
                static_cast<unsigned long long>(summary.frames),
                static_cast<unsigned long long>(summary.warmup_frames), summary.fps);
  out << line;
  std::snprintf(line, sizeof line, "%-20s %-8s %8s %9s %9s %9s %9s %9s %9s\n", "stage", "time",
                "frames", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "mean ms");
  out << line;
  for (std::size_t i = 0; i < summary.stages.size(); ++i) {
    const StageLatency& stage = summary.stages[i];
    if (i > 0) out << row(stage.name.c_str(), "wait", stage.queue_wait);
    out << row(stage.name.c_str(), "service", stage.service);
  }
  out << row("end to end", "", summary.end_to_end);
  if (summary.edges.empty()) return;
  std::snprintf(line, sizeof line, "%-28s %-12s %8s %10s %10s %10s %10s\n", "edge", "policy",
                "capacity", "pushed", "popped", "dropped", "high water");
  out << line;
  for (const EdgeStats& edge : summary.edges) {
    const ChannelStats& s = edge.stats;
    std::snprintf(
        line, sizeof line, "%-28s %-12s %8zu %10llu %10llu %10llu %10llu\n", edge.name.c_str(),
        to_string(s.overflow), s.capacity, static_cast<unsigned long long>(s.pushed),
        static_cast<unsigned long long>(s.popped), static_cast<unsigned long long>(s.dropped),
        static_cast<unsigned long long>(s.high_water));
    out << line;
  }
}

void write_json(std::ostream& out, const LatencySummary& summary) {
  out << "{\"frames\":" << summary.frames << ",\"warmup_frames\":" << summary.warmup_frames
      << ",\"fps\":" << json_number(summary.fps) << ",\"end_to_end\":";
  json_stats(out, summary.end_to_end);
  out << ",\"stages\":[";
  for (std::size_t i = 0; i < summary.stages.size(); ++i) {
    const StageLatency& stage = summary.stages[i];
    out << (i > 0 ? "," : "") << "{\"name\":" << json_string(stage.name) << ",\"service\":";
    json_stats(out, stage.service);
    out << ",\"queue_wait\":";
    json_stats(out, stage.queue_wait);
    out << "}";
  }
  out << "],\"edges\":[";
  for (std::size_t i = 0; i < summary.edges.size(); ++i) {
    const ChannelStats& s = summary.edges[i].stats;
    out << (i > 0 ? "," : "") << "{\"name\":" << json_string(summary.edges[i].name)
        << ",\"overflow\":" << json_string(to_string(s.overflow)) << ",\"capacity\":" << s.capacity
        << ",\"pushed\":" << s.pushed << ",\"popped\":" << s.popped << ",\"dropped\":" << s.dropped
        << ",\"high_water\":" << s.high_water << ",\"parks\":" << s.parks << "}";
  }
  out << "]}\n";
}

void write_csv(std::ostream& out, const LatencySummary& summary) {
  out << "kind,name,count,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,"
         "pushed,popped,dropped,high_water\n";
  for (std::size_t i = 0; i < summary.stages.size(); ++i) {
    const StageLatency& stage = summary.stages[i];
    if (i > 0) csv_stats(out, "queue_wait", stage.name, stage.queue_wait);
    csv_stats(out, "service", stage.name, stage.service);
  }
  csv_stats(out, "end_to_end", "end_to_end", summary.end_to_end);
  for (const EdgeStats& edge : summary.edges) {
    const ChannelStats& s = edge.stats;
    out << "edge," << csv_field(edge.name) << ",,,,,,,," << s.pushed << ',' << s.popped << ','
        << s.dropped << ',' << s.high_water << '\n';
  }
}

}  // namespace spikevid
