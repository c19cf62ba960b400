#pragma once
// Inputs: ReconstructionPtr. Outputs: ComposedPtr (BGR, even width and height).
// The view: side by side, the input at model resolution, the spikes as a
// per-cell map (ON cells red, OFF cells blue, brightness by count), and the
// reconstruction; or the reconstruction alone. An overlay shows frames per
// second, the latency of each stage before this one and from capture to here
// (p50/p99 over the last frames), spikes per second, and the running PSNR and
// SSIM of the reconstruction against its input.
// Threading: process() runs on one thread at a time. Blocking: never.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "models/cell_table.h"
#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {

struct ComposeConfig {
  std::string view = "side-by-side";  // or "reconstruction"
  int scale = 0;                      // view pixels per model pixel; 0: about 320 px high
  bool overlay = true;                // side-by-side only
  CellTable cells;                    // one tile's cells, for the spike map
  TileGrid tiles;
  double window_s = 1.0 / 30;            // the encoder's window: spikes per second
  std::vector<std::string> stage_names;  // the pipeline's, for the overlay
  int stage_index = 0;                   // this stage's index in the pipeline
};

class ComposeStage {
 public:
  explicit ComposeStage(ComposeConfig config);  // throws std::invalid_argument on a bad view
  ComposedPtr process(ReconstructionPtr r);
  // The line's stage names up to this one (the last): the overlay shows the
  // latency of each stage before this one. Before the first process().
  void set_stage_names(std::vector<std::string> names);
  int width() const { return width_; }
  int height() const { return height_; }
  // Running means over every frame composed so far (NaN before the first with an input).
  double mean_psnr() const { return scored_ ? psnr_sum_ / scored_ : 0.0 / 0.0; }
  double mean_ssim() const { return scored_ ? ssim_sum_ / scored_ : 0.0 / 0.0; }

 private:
  ComposeConfig config_;
  int panel_w_ = 0, panel_h_ = 0, width_ = 0, height_ = 0, bar_h_ = 0;
  std::int64_t scored_ = 0;
  double psnr_sum_ = 0, ssim_sum_ = 0, last_psnr_ = 0, last_ssim_ = 0;
  std::deque<FrameMeta> recent_;                   // the last frames' stamps, for the overlay
  std::deque<double> recent_spikes_, recent_e2e_;  // counts per frame; ms from capture to here
};

}  // namespace spikevid
