#include "stages/settings.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "stages/gpu_lane.h"

namespace spikevid {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda") return Device::cuda;
  throw std::invalid_argument("--device: expected cpu or cuda, got '" + name + "'");
}

Precision parse_precision_setting(const std::string& name) {
  if (name == "float32") return Precision::float32;
  if (name == "bfloat16") return Precision::bfloat16;
  if (name == "float16") return Precision::float16;
  throw std::invalid_argument("--precision: expected float32, bfloat16 or float16, got '" + name +
                              "'");
}

std::optional<Precision> parse_precision_or_auto(const std::string& name) {
  if (name == "auto") return std::nullopt;
  try {
    return parse_precision_setting(name);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("--precision: expected auto, float32, bfloat16 or float16, got '" +
                                name + "'");
  }
}

const char* to_string(Device device) { return device == Device::cuda ? "cuda" : "cpu"; }

const char* to_string(Precision p) {
  switch (p) {
    case Precision::bfloat16:
      return "bfloat16";
    case Precision::float16:
      return "float16";
    case Precision::float32:
      break;
  }
  return "float32";
}

torch::ScalarType dtype_of(Precision p) {
  switch (p) {
    case Precision::bfloat16:
      return torch::kBFloat16;
    case Precision::float16:
      return torch::kHalf;
    case Precision::float32:
      break;
  }
  return torch::kFloat32;
}

torch::Device torch_device(Device device) {
  return device == Device::cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

bool cpu_has_fast_bfloat16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w)
      if (w == "amx_bf16" || w == "avx512_bf16") return true;
    return false;  // every core lists the same flags
  }
  return false;
}

std::string settings_problem(Device device, Precision precision, bool cuda_graphs) {
  if (precision == Precision::float16 && device != Device::cuda)
    return "--precision float16: half precision needs a CUDA device (--device cuda); on a CPU "
           "use bfloat16";
  if (cuda_graphs && device != Device::cuda)
    return "--cuda-graphs on: CUDA graphs need a CUDA device (--device cuda)";
  if (cuda_graphs && !have_cuda_path())
    return "--cuda-graphs on: this build has no CUDA path (a CPU LibTorch)";
  return "";
}

}  // namespace spikevid
