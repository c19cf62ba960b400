#pragma once
// The files every pipeline subcommand writes on request: --stats (JSON),
// --csv and --trace (Chrome trace, opens in Perfetto). Empty paths are skipped.
#include <string>

namespace spikevid {
class LatencyRecorder;
}

namespace spikevid::cli {

struct ReportPaths {
  std::string stats, csv, trace;
};

// Throws std::runtime_error ("PATH: ...") if a file cannot be written.
void write_latency_reports(const LatencyRecorder& recorder, const ReportPaths& paths);

}  // namespace spikevid::cli
