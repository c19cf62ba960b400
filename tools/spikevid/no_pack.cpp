// LibTorch-only builds (GPU training machines) have neither OpenCV, to read
// photos, nor Boost, for the engine: packs and pipelines are run elsewhere.
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
void add_pack_command(CLI::App&) {}
void add_synthetic_command(CLI::App&) {}
void add_video_commands(CLI::App&) {}
void add_bench_command(CLI::App&) {}
}  // namespace spikevid::cli
