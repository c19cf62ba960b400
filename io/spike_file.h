#pragma once
// The spike file: what an encoder emitted, frame by frame, in HDF5, readable
// with h5py or MATLAB (README). Written as a stream and flushed every few
// frames, so a file whose writer dies without closing it still opens and holds
// every frame flushed before (tested for a process that exits mid-stream). Layout:
//   /counts         float32 [T, bins, N], chunked by frame, gzip level 4
//   /timestamps_ns  int64 [T]: each frame's capture time
//   /cells/type     uint8 [N] (0 ON, 1 OFF); /cells/x, /cells/y,
//   /cells/center_sigma, /cells/surround_sigma  float32 [N], pixels
//   root attributes: format ("spikevid-spikes-1"), window_s, bins, encoder_id,
//   encoder (JSON text), source (a description of the input), tiles ("RxC":
//   with tiles, N = R·C·n, tile t's cells are columns t·n … t·n+n−1, row-major,
//   and the cell table gives positions in the whole frame), tile_overlap (pixels)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace spikevid {

struct SpikeFileHeader {
  int cells = 0;
  int bins = 1;
  double window_s = 1.0 / 30;
  std::string encoder_id, encoder_json, source;
  int tile_rows = 1, tile_cols = 1, tile_overlap = 16;
  std::vector<std::uint8_t> cell_type;  // empty, or one entry per cell
  std::vector<float> cell_x, cell_y, center_sigma, surround_sigma;
};

// Thread-safe: no (one writer, one thread). Every method throws
// std::runtime_error("PATH: problem") on an I/O error.
class SpikeFileWriter {
 public:
  // Creates (truncates) path. flush_every: frames between flushes to disk.
  SpikeFileWriter(std::string path, const SpikeFileHeader& header, int flush_every = 16);
  ~SpikeFileWriter();  // closes; never throws
  SpikeFileWriter(const SpikeFileWriter&) = delete;
  SpikeFileWriter& operator=(const SpikeFileWriter&) = delete;

  // counts: bins·cells values of one frame.
  void append(const float* counts, std::int64_t timestamp_ns);
  void flush();
  void close();
  std::int64_t frames() const { return frames_; }

 private:
  std::string path_;
  std::int64_t frames_ = 0, per_frame_ = 0;
  int flush_every_, bins_, cells_;
  std::int64_t file_ = -1, counts_ = -1, stamps_ = -1;  // HDF5 handles
};

// A spike file read frame by frame, in constant memory whatever its length.
// The constructor checks the file in a forked child first (read_spike_file
// says why): call it before starting threads. Every method throws
// std::runtime_error ("PATH: problem") on a damaged file.
// Thread-safe: no (one reader, one thread at a time).
class SpikeFileReader {
 public:
  explicit SpikeFileReader(const std::string& path);
  struct Unchecked {};  // no child first: for the child itself and the fuzzer
  SpikeFileReader(const std::string& path, Unchecked);
  ~SpikeFileReader();
  SpikeFileReader(const SpikeFileReader&) = delete;
  SpikeFileReader& operator=(const SpikeFileReader&) = delete;

  const SpikeFileHeader& header() const;
  std::int64_t frames() const;
  // Frame `frame`'s bins·cells counts into `counts`; returns its timestamp (ns).
  std::int64_t read(std::int64_t frame, float* counts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SpikeFile {
  SpikeFileHeader header;
  std::int64_t frames = 0;
  std::vector<float> counts;                // frames·bins·cells
  std::vector<std::int64_t> timestamps_ns;  // frames
};

// Throws std::runtime_error("PATH: problem") on a file that is not a spike file.
// libhdf5 1.10.8 crashes on some damaged files (a division by zero, a copy
// from a null pointer; found by fuzzing), so the file is first read in a
// forked child: if the library faults there, the caller gets one line, not a
// crash. A good file is read twice; call it before starting threads.
SpikeFile read_spike_file(const std::string& path);

namespace detail {
// How the child's read of the file ended: ok (read or refused with an
// exception), fault (killed by SIGSEGV, SIGBUS, SIGFPE or SIGILL, which the
// child resets to their defaults), aborted (SIGABRT: under a sanitizer, its
// report), killed (any other signal, e.g. the OOM killer's SIGKILL).
enum class ReadProbe { ok, fault, aborted, killed };
ReadProbe probe_read_in_child(const std::string& path);
// The read itself, in this process.
SpikeFile read_spike_file_here(const std::string& path);
// What the child runs: every frame, one at a time, in constant memory.
void stream_spike_file_here(const std::string& path);
}  // namespace detail

}  // namespace spikevid
