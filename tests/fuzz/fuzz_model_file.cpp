// libFuzzer target: the model file reader (.svm: header, JSON metadata, tensors)
// and the precision record in its metadata.
#include <cstdlib>
#include <exception>
#include <string>

#include <torch/nn/modules/linear.h>

#include "models/model_file.h"
#include "models/precision_check.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    torch::nn::Linear net(3, 2);
    spikevid::write_model_file(std::string(dir) + "/seed.svm",
                               {{"kind", "decoder"}, {"architecture", "linear"}}, *net, true);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".svm");
  try {
    const auto file = spikevid::read_model_file(path);
    // What --precision auto reads from the meta: any JSON there, never a crash.
    for (const char* p : {"bfloat16", "float16"}) {
      (void)spikevid::precision_checked_ok(file.meta, p);
      (void)spikevid::precision_check_summary(file.meta, p);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
