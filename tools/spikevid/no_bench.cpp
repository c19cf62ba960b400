// A LibTorch-only build without Boost's headers has no engine, so no bench
// (tools/carry-headers carries the headers it needs).
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
void add_bench_command(CLI::App&) {}
}  // namespace spikevid::cli
