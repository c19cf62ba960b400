#include "stages/settings.h"

#include <stdexcept>

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
