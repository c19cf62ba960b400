#pragma once
// The files every pipeline subcommand writes on request: --stats (JSON),
// --csv and --trace (Chrome trace, opens in Perfetto). Empty paths are skipped.
#include <string>

#include <nlohmann/json.hpp>

namespace spikevid {
class LatencyRecorder;
}

namespace spikevid::cli {

struct ReportPaths {
  std::string stats, csv, trace;
};

// Throws std::runtime_error ("PATH: ...") if a file cannot be written.
// `extra` joins the --stats JSON (the reconstruction's scores, frame counts).
void write_latency_reports(const LatencyRecorder& recorder, const ReportPaths& paths,
                           const nlohmann::json& extra = nlohmann::json::object());

// This process's peak resident memory, in MB.
double peak_rss_mb();

}  // namespace spikevid::cli
