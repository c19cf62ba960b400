#pragma once
// Inputs: none (the first stage of a line). Outputs: CapturedPtr (8-bit gray,
// the source's size, its presentation time).
// Threading: next() runs on one thread at a time. Blocking: until a frame is
// due (a paced source), the source gives one, or the stream ends.
// The sources of frames: a video (stages/video_capture.h: files, webcams, the
// test pattern, gst: pipelines, images) and synthetic frames (below).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/gray_image.h"
#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {

struct CaptureInfo {
  std::string description;    // what was opened, for logs and the spike file
  int width = 0, height = 0;  // of the first frame
  double fps = 0;             // 0: unknown
  bool live = false;          // paced by its own clock
  std::int64_t frames = -1;   // expected, -1 if unknown
};

class CaptureSource {
 public:
  virtual ~CaptureSource() = default;
  // The next frame; nullopt at the end of the stream. Throws std::runtime_error
  // ("SOURCE: problem") on a stream error or a stall.
  virtual std::optional<CapturedPtr> next() = 0;
  const CaptureInfo& info() const { return info_; }
  // Frames that arrived before the line and were dropped there (a live
  // source's own buffer keeps only the newest); counted for the report.
  // Thread-safe: yes. Blocks: no.
  virtual std::uint64_t received() const { return 0; }
  virtual std::uint64_t dropped() const { return 0; }
  // How many frames have left the line so far: a paced source may wait for
  // the first one before its clock starts. Set before the run.
  void set_delivered(const std::atomic<std::int64_t>* delivered) { delivered_ = delivered; }

 protected:
  CaptureInfo info_;
  const std::atomic<std::int64_t>* delivered_ = nullptr;
};

struct SyntheticCaptureConfig {
  TileGrid grid;  // frames at the grid's size (the centre of a square scene)
  std::int64_t frames = 600;
  double pace_fps = 0;  // > 0: paced like a camera at this rate; 0: as fast as taken
  std::uint64_t seed = 1;
};

// The synthetic scene of stages/synthetic_source.h as 8-bit frames: 64
// distinct frames made before the run (making them costs nothing in it),
// repeated. Paced, frame 0 goes through alone first: each stage's first call
// on its own thread starts that thread's OpenMP team, a one-off stall that
// would otherwise drop frames at start-up; the camera's clock starts when it
// is out (or after 20 s).
std::unique_ptr<CaptureSource> make_synthetic_capture(const SyntheticCaptureConfig& config);

// The distinct synthetic frames at the grid's size (for warm-up calls and
// the benchmark's sequential loop).
std::vector<GrayImage> synthetic_frames(const TileGrid& grid, std::uint64_t seed = 1);

}  // namespace spikevid
