// The CUDA path (see gpu_lane.h). Compiled only against a LibTorch with CUDA.
#include <cuda_runtime_api.h>

#include <deque>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "stages/gpu_lane.h"

namespace spikevid {
namespace {

// Timing-enabled: the same event ends a batch's GPU timer and hands it over.
class CudaEvent final : public GpuEvent {
 public:
  CudaEvent() : event(cudaEventDefault) {}
  void host_wait() const override { event.synchronize(); }
  mutable at::cuda::CUDAEvent event;  // block() is not const
};

struct Timer {
  std::unique_ptr<at::cuda::CUDAEvent> start;
  std::shared_ptr<CudaEvent> end;
};

struct Graph {
  at::cuda::CUDAGraph graph;
  torch::Tensor input, output;
};

constexpr std::size_t kMaxTimes = 1000000;
constexpr std::size_t kHarvestAt = 1024;  // pending timers before finished ones are read
constexpr int kGraphWarmup = 3;

class CudaLane final : public GpuLane {
 public:
  explicit CudaLane(c10::DeviceIndex index)
      : stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}

  ~CudaLane() override {
    // Graphs and events belong to the stream's work: let it finish first.
    try {
      stream_.synchronize();
    } catch (...) {
    }
  }

  GpuEventPtr run(const std::vector<GpuEventPtr>& wait_for,
                  const std::function<void()>& work) override {
    c10::cuda::CUDAStreamGuard guard(stream_);
    for (const auto& e : wait_for)
      if (e) static_cast<const CudaEvent&>(*e).event.block(stream_);
    Timer t{std::make_unique<at::cuda::CUDAEvent>(cudaEventDefault), std::make_shared<CudaEvent>()};
    t.start->record(stream_);
    work();
    t.end->event.record(stream_);
    GpuEventPtr done = t.end;
    pending_.push_back(std::move(t));
    if (pending_.size() >= kHarvestAt) harvest(false);
    return done;
  }

  torch::Tensor graphed(
      const torch::Tensor& input, int64_t capacity,
      const std::function<torch::Tensor(const torch::Tensor&)>& forward) override {
    const int64_t rows = input.size(0);
    if (rows > capacity) return forward(input);
    std::vector<int64_t> key = input.sizes().vec();
    key[0] = capacity;
    key.push_back(static_cast<int64_t>(input.scalar_type()));
    auto it = graphs_.find(key);
    if (it == graphs_.end()) {
      auto g = std::make_unique<Graph>();
      std::vector<int64_t> shape = input.sizes().vec();
      shape[0] = capacity;
      g->input = torch::zeros(shape, input.options());
      g->input.narrow(0, 0, rows).copy_(input);
      // Warm-up on this (non-default) stream first: cuDNN picks its kernels
      // and the caching allocator grows outside the capture.
      for (int i = 0; i < kGraphWarmup; ++i) (void)forward(g->input);
      stream_.synchronize();
#if TORCH_VERSION_MAJOR >= 2
      // Thread-local capture: the other stage's thread keeps calling CUDA.
      g->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
      g->graph.capture_begin();
#endif
      g->output = forward(g->input);
      g->graph.capture_end();
      it = graphs_.emplace(std::move(key), std::move(g)).first;
    }
    Graph& g = *it->second;
    g.input.narrow(0, 0, rows).copy_(input, /*non_blocking=*/true);
    g.graph.replay();
    return g.output.narrow(0, 0, rows);
  }

  std::vector<double> gpu_ms() override {
    harvest(true);
    return times_;
  }

 private:
  // Reads finished timers (all of them after a stream synchronisation when `all`).
  void harvest(bool all) {
    if (all) stream_.synchronize();
    while (!pending_.empty() && (all || pending_.front().end->event.query())) {
      auto& t = pending_.front();
      if (times_.size() < kMaxTimes) times_.push_back(t.start->elapsed_time(t.end->event));
      pending_.pop_front();
    }
  }

  c10::cuda::CUDAStream stream_;
  std::deque<Timer> pending_;
  std::vector<double> times_;
  std::map<std::vector<int64_t>, std::unique_ptr<Graph>> graphs_;
};

}  // namespace

std::unique_ptr<GpuLane> make_gpu_lane(const std::string& device) {
  const torch::Device d(device);
  if (!d.is_cuda()) return nullptr;
  if (!torch::cuda::is_available())
    throw std::runtime_error("--device " + device + ": no CUDA device is available");
  return std::make_unique<CudaLane>(d.has_index() ? d.index() : c10::DeviceIndex{0});
}

bool have_cuda_path() { return true; }

std::string describe_gpu(const std::string& device) {
  const torch::Device d(device);
  if (!d.is_cuda() || !torch::cuda::is_available()) return "";
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, d.has_index() ? d.index() : 0) != cudaSuccess) return "unknown";
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  std::ostringstream s;
  s << p.name << ", " << (p.totalGlobalMem >> 20) << " MiB, compute " << p.major << "." << p.minor
    << ", CUDA driver API " << driver / 1000 << "." << (driver % 1000) / 10 << ", runtime "
    << runtime / 1000 << "." << (runtime % 1000) / 10;
  return s.str();
}

}  // namespace spikevid
