// Decoder speed on this machine, side by side in one run: the reference SID,
// SID-lite and the linear decoder, forward only (eval mode, no grad), at
// batch 1 and 8, with `--threads` torch threads, in float32 and then in
// bfloat16 (oneDNN runs it on AMX tiles where the CPU has them, such as
// this machine's Sapphire Rapids). Untrained weights: speed does not depend
// on their values.
//
//   build/bench/decoder_bench [--threads 2] [--seconds 3]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

#include "models/cpu_allocator.h"
#include "models/export.h"
#include "models/linear_decoder.h"
#include "models/sid.h"
#include "models/sid_lite.h"

namespace {

// ms per frame of forward(x) on [batch, 2048] Poisson counts in `dtype`.
template <class Forward>
double ms_per_frame(Forward&& forward, int batch, double seconds, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  auto x = torch::poisson(torch::full({batch, 2048}, 0.7)).to(dtype);
  for (int i = 0; i < 5; ++i) forward(x);  // warm-up (TorchScript profiles its first calls)
  const auto t0 = std::chrono::steady_clock::now();
  int64_t frames = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    forward(x);
    frames += batch;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return 1e3 * elapsed / static_cast<double>(frames);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "decoder_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  spikevid::keep_freed_cpu_memory();  // as spikevid does (models/cpu_allocator.h)
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  spikevid::Sid sid(2048);
  spikevid::SidLite lite(2048);
  spikevid::SidLite wide(2048, 1024);
  spikevid::LinearDecoder linear(2048, 64);
  std::printf("decoder forward, 2048 cells -> 64x64, %d torch threads, %.0f s per cell\n", threads,
              seconds);
  std::printf(
      "| decoder | precision | MFLOP/frame | batch 1 ms/frame | batch 8 ms/frame | batch 8 "
      "frames/s |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  sid->eval();
  lite->eval();
  wide->eval();
  linear->eval();
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    const char* precision = dtype == torch::kFloat32 ? "float32" : "bfloat16";
    auto row = [&](const char* name, double mflop, auto&& forward) {
      const double b1 = ms_per_frame(forward, 1, seconds, dtype),
                   b8 = ms_per_frame(forward, 8, seconds, dtype);
      std::printf("| %s | %s | %.0f | %.2f | %.2f | %.0f |\n", name, precision, mflop, b1, b8,
                  1e3 / b8);
      std::fflush(stdout);
    };
    // The module as trained, and its inference form: the TorchScript export,
    // BatchNorm folded into the layer before it, no dropout (models/export.h).
    auto module = [&](auto& net) {
      net->to(dtype);
      return [&net](const torch::Tensor& x) { return net->forward(x); };
    };
    auto folded = [&](auto& net) {
      net->to(torch::kFloat32);
      auto m = std::make_shared<torch::jit::Module>(spikevid::to_torchscript(*net));
      m->to(dtype);
      return [m](const torch::Tensor& x) { return m->forward({x}).toTensor(); };
    };
    const double sid_mflop = spikevid::sid_flops_per_frame(2048) / 1e6,
                 lite_mflop = spikevid::sid_lite_flops_per_frame(2048) / 1e6,
                 wide_mflop = spikevid::sid_lite_flops_per_frame(2048, 1024) / 1e6;
    row("sid", sid_mflop, module(sid));
    row("sid, folded TorchScript", sid_mflop, folded(sid));
    row("sid-lite", lite_mflop, module(lite));
    row("sid-lite, folded TorchScript", lite_mflop, folded(lite));
    row("sid-lite width 1024", wide_mflop, module(wide));
    row("linear", 2.0 * 2048 * 4096 / 1e6, module(linear));
  }
  return 0;
}
