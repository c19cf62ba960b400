// libFuzzer target: the IDX reader (Fashion-MNIST images and labels, plain or gzipped).
#include <cstdlib>
#include <exception>
#include <fstream>

#include "io/idx.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    const unsigned char images[] = {0,  0,   8,   3,   0,   0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 0,
                                    50, 100, 150, 200, 250, 1, 2, 3, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    const unsigned char labels[] = {0, 0, 8, 1, 0, 0, 0, 2, 4, 7};
    std::ofstream(std::string(dir) + "/images.idx", std::ios::binary)
        .write(reinterpret_cast<const char*>(images), sizeof images);
    std::ofstream(std::string(dir) + "/labels.idx", std::ios::binary)
        .write(reinterpret_cast<const char*>(labels), sizeof labels);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".idx");
  try {
    (void)spikevid::read_idx_images(path);
  } catch (const std::exception&) {
  }
  try {
    (void)spikevid::read_idx_labels(path);
  } catch (const std::exception&) {
  }
  return 0;
}
