// LibTorch-only builds (GPU machines) have no OpenCV, to read photos and
// video, so no pack-data, synthetic or video commands: packs are made elsewhere.
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
void add_pack_command(CLI::App&) {}
void add_synthetic_command(CLI::App&) {}
void add_video_commands(CLI::App&) {}
}  // namespace spikevid::cli
