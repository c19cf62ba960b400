// libFuzzer target: the spike file reader (HDF5).
#include <cstdlib>
#include <exception>
#include <string>

#include "io/spike_file.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    spikevid::SpikeFileHeader h;
    h.cells = 3;
    h.encoder_id = "seed";
    h.cell_type = {0, 1, 0};
    h.cell_x = h.cell_y = h.center_sigma = h.surround_sigma = {1, 2, 3};
    spikevid::SpikeFileWriter w(std::string(dir) + "/seed.h5", h);
    const float counts[3] = {0, 2, 1};
    w.append(counts, 0);
    w.append(counts, 33000000);
    w.close();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".h5");
  try {
    (void)spikevid::read_spike_file(path);
  } catch (const std::exception&) {
  }
  return 0;
}
