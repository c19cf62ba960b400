#pragma once
// A LatencySummary written out: the table printed at the end of every run, and
// the JSON and CSV files written on request.
#include <iosfwd>

#include "pipeline/latency_summary.h"

namespace spikevid {

// Fixed-width columns for a terminal.
// Thread-safe: yes. Blocks: on `out`. Allocates: yes.
void write_table(std::ostream& out, const LatencySummary& summary);

// {"frames", "warmup_frames", "fps", "end_to_end": {...}, "stages": [{"name",
// "service", "queue_wait"}], "edges": [{"name", "overflow", "capacity", "pushed",
// "popped", "dropped", "high_water", "parks"}]}; latencies as p50_ms ... mean_ms.
// Thread-safe: yes. Blocks: on `out`. Allocates: yes.
void write_json(std::ostream& out, const LatencySummary& summary);

// One row per stage and measure (kind: service, queue_wait, end_to_end) with the
// latency columns, then one per edge (kind: edge) with the counter columns.
// Thread-safe: yes. Blocks: on `out`. Allocates: yes.
void write_csv(std::ostream& out, const LatencySummary& summary);

}  // namespace spikevid
