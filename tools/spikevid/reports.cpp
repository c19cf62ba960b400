#include "tools/spikevid/reports.h"

#include <ostream>

#include "pipeline/latency_recorder.h"
#include "pipeline/latency_report.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {

void write_latency_reports(const LatencyRecorder& recorder, const ReportPaths& paths) {
  const auto summary = recorder.summary();
  if (!paths.stats.empty())
    write_output_file(paths.stats, [&](std::ostream& o) { write_json(o, summary); });
  if (!paths.csv.empty())
    write_output_file(paths.csv, [&](std::ostream& o) { write_csv(o, summary); });
  if (!paths.trace.empty())
    write_output_file(paths.trace, [&](std::ostream& o) { recorder.write_trace(o); });
}

}  // namespace spikevid::cli
