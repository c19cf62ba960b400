// The CUDA path's stand-in for a LibTorch without CUDA (see gpu_lane.h): no
// lanes, so the model stages run without streams, events or graphs.
#include "stages/gpu_lane.h"

namespace spikevid {

std::unique_ptr<GpuLane> make_gpu_lane(const std::string&) { return nullptr; }

bool have_cuda_path() { return false; }

std::string describe_gpu(const std::string&) { return ""; }

}  // namespace spikevid
