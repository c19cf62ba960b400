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
  // The read first runs in a child, as read_spike_file runs it. A fault there
  // with no sanitizer report is libhdf5's own (it crashes on some damaged
  // files); spikevid contains it and says one line, so the input is done. A
  // sanitizer report in the child (an abort) fails the run. Otherwise the
  // read runs again here, in view of this process's sanitizers and coverage.
  // What this cannot see: a plain fault in spikevid's own code in the child
  // (a null pointer) passes for libhdf5's; ASan reports most memory errors
  // before they fault.
  using spikevid::detail::ReadProbe;
  switch (spikevid::detail::probe_read_in_child(path)) {
    case ReadProbe::aborted:
      std::abort();
    case ReadProbe::fault:
    case ReadProbe::killed:
      return 0;
    case ReadProbe::ok:
      break;
  }
  try {
    (void)spikevid::detail::read_spike_file_here(path);
  } catch (const std::exception&) {
  }
  return 0;
}
