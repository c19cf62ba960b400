#pragma once
// A recording of ganglion cells: the stimulus frames shown and each cell's
// spike count per frame, in HDF5, so `spikevid fit-encoder --recording` can fit
// the CNN encoder to real cells. Layout (h5py: see README):
//   /stimulus     uint8 [T,H,W] (0..255) or float32 [T,H,W] (0..1), gray
//   /counts       float32, float64 or any integer type [T,N]: spikes per frame
//   attribute window_s (float64) on the root: the window each count covers
//   /split        optional uint8 [T]: 0 train, 1 validation, 2 test; without
//                 it the last 10 % of frames are test and the 10 % before them
//                 validation (contiguous blocks: neighbouring frames correlate)
//   /cells/x, /cells/y  optional float32 [N]: receptive-field centres, pixels
//   /cells/type   optional uint8 [N]: 0 ON, 1 OFF
#include <cstdint>
#include <string>
#include <vector>

namespace spikevid {

struct Recording {
  int frames = 0, height = 0, width = 0, cells = 0;
  std::vector<float> stimulus;  // frames·height·width in [0,1]
  std::vector<float> counts;    // frames·cells
  double window_s = 1.0 / 30;
  std::vector<std::uint8_t> split;    // frames: 0 train, 1 val, 2 test
  std::vector<float> cell_x, cell_y;  // empty when the file has none
  std::vector<std::uint8_t> cell_type;
};

// Throws std::runtime_error("PATH: problem") on anything missing or malformed.
Recording read_recording(const std::string& path);
// Writes every field above (the split explicitly). Throws on I/O errors.
void write_recording(const std::string& path, const Recording& recording);

}  // namespace spikevid
