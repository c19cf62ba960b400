#include "tools/spikevid/reports.h"

#include <sys/resource.h>

#include <ostream>
#include <sstream>

#include "pipeline/latency_recorder.h"
#include "pipeline/latency_report.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void write_latency_reports(const LatencyRecorder& recorder, const ReportPaths& paths,
                           const nlohmann::json& extra) {
  const auto summary = recorder.summary();
  if (!paths.stats.empty()) {
    std::ostringstream text;
    write_json(text, summary);
    auto j = nlohmann::json::parse(text.str());
    j.update(extra);
    write_output_file(paths.stats, [&](std::ostream& o) { o << j.dump(2) << "\n"; });
  }
  if (!paths.csv.empty())
    write_output_file(paths.csv, [&](std::ostream& o) { write_csv(o, summary); });
  if (!paths.trace.empty())
    write_output_file(paths.trace, [&](std::ostream& o) { recorder.write_trace(o); });
}

}  // namespace spikevid::cli
