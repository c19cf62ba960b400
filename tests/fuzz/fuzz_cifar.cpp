// libFuzzer target: the CIFAR-10 and CIFAR-100 binary readers.
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "io/cifar.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    std::string rec10(1 + 3072, '\x40'), rec100(2 + 3072, '\x60');
    rec10[0] = 3;
    rec100[0] = 1;
    rec100[1] = 42;
    std::ofstream(std::string(dir) + "/cifar10.bin", std::ios::binary) << rec10 << rec10;
    std::ofstream(std::string(dir) + "/cifar100.bin", std::ios::binary) << rec100;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".bin");
  try {
    (void)spikevid::read_cifar10(path);
  } catch (const std::exception&) {
  }
  try {
    (void)spikevid::read_cifar100(path);
  } catch (const std::exception&) {
  }
  return 0;
}
