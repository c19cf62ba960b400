#pragma once
// Spike files as stages of the line (layout: io/spike_file.h):
//   SpikeFileSource — Outputs: SpikesPtr (counts [T,bins,N] on the CPU, no
//     input image). Streams the file a frame at a time: constant memory,
//     whatever its length. Blocking: on the disk.
//   SpikeRecorder — Inputs and outputs: SpikesPtr, passed on unchanged after
//     their counts are appended to the file. Blocking: on the disk (and, on
//     the CUDA path, on the encode stage's event for the counts).
// and the mapping between a file's header and an encoder's description.
// Threading: one thread at a time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/encoder.h"
#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {

class OutputFile;
class SpikeFileReader;
class SpikeFileWriter;
struct SpikeFileHeader;

// The header a spike file of `encoder`'s spikes through `grid` carries; the
// cell table gives each tile's cells at their place in the whole frame.
SpikeFileHeader spike_header(const EncoderInfo& encoder, const TileGrid& grid,
                             const std::string& source);

class SpikeFileSource {
 public:
  // Opens and checks the file (io/spike_file.h: before threads start). Throws
  // std::runtime_error ("PATH: problem") on a damaged file or one that holds no frame.
  explicit SpikeFileSource(const std::string& path);
  ~SpikeFileSource();
  std::optional<SpikesPtr> next();
  // The encoder as far as the file describes it: its id, cells (one tile's),
  // bins, window; positions and field sizes when the file has them.
  const EncoderInfo& encoder() const { return encoder_; }
  TileGrid grid() const { return grid_; }
  std::int64_t frames() const;
  // Frames per second from the timestamps (30 when they do not say).
  double fps() const { return fps_; }

 private:
  std::string path_;
  std::unique_ptr<SpikeFileReader> reader_;
  EncoderInfo encoder_;
  TileGrid grid_;
  double fps_ = 30;
  std::int64_t next_ = 0;
};

class SpikeRecorder {
 public:
  // Writes `path` safely (io/output_file.h): never one of `inputs`, one
  // writer, a .part file renamed into place by finish(). Throws std::runtime_error.
  SpikeRecorder(const std::string& path, const SpikeFileHeader& header,
                const std::vector<std::string>& inputs);
  ~SpikeRecorder();  // finish(); never throws
  SpikesPtr process(SpikesPtr spikes);
  // Closes the file (every frame so far stays) and renames it into place, or
  // removes it if it holds no frame. Idempotent.
  void finish();
  std::int64_t frames() const;

 private:
  std::unique_ptr<OutputFile> file_;
  std::unique_ptr<SpikeFileWriter> writer_;
  bool finished_ = false;
};

}  // namespace spikevid
