// Training speed on this machine, side by side in one run: images per second
// of the training step that `spikevid train` runs (spikes from the shipped
// CNN encoder, forward, MSE, backward, Adam) for SID, SID-lite and the wide
// SID-lite, in float32 and then with --precision bfloat16 (autocast: matrix
// products and convolutions on the AMX tiles where the CPU has them). Every
// row runs first with glibc's default malloc, then with the setting spikevid
// makes at start-up (models/cpu_allocator.h: freed memory kept for reuse).
//
//   build/bench/train_bench [--threads 2] [--seconds 20] [--batch 64]
//                           [--encoder models/weights/encoder-cnn.svm]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "models/cpu_allocator.h"
#include "models/encoder.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "models/training.h"

namespace {

template <class Net>
double images_per_second(Net& net, spikevid::Encoder& encoder, int batch, double seconds,
                         torch::ScalarType precision) {
  net->train();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-4));
  auto x = torch::rand({batch, 1, 64, 64});
  const auto step = [&] {
    spikevid::train_step([&](const torch::Tensor& c) { return net->forward(c); }, opt, encoder, x,
                         precision);
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: oneDNN picks its kernels
  const auto t0 = std::chrono::steady_clock::now();
  int64_t images = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    step();
    images += batch;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return static_cast<double>(images) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, batch = 64;
  double seconds = 20;
  std::string encoder_path = "models/weights/encoder-cnn.svm";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--encoder"))
      encoder_path = argv[i + 1];
    else {
      std::fprintf(stderr, "train_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || batch < 2 || seconds <= 0) {
    std::fprintf(stderr, "train_bench: --threads >= 1, --batch >= 2, --seconds > 0\n");
    return 2;
  }
  torch::set_num_threads(threads);
  std::unique_ptr<spikevid::Encoder> encoder;
  try {
    encoder = spikevid::load_encoder(encoder_path, torch::kCPU);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: %s\n", e.what());
    return 1;
  }
  const int64_t n = encoder->info().n_cells * encoder->info().bins;
  std::printf(
      "training step (encoder spikes, forward, MSE, backward, Adam), %lld cells, batch %d, "
      "%d torch threads, %.0f s per cell\n",
      static_cast<long long>(n), batch, threads, seconds);
  std::printf(
      "| decoder | malloc | float32 images/s | bfloat16 images/s | speed-up |\n"
      "| --- | --- | ---: | ---: | ---: |\n");
  const char* malloc_setting = "glibc default";
  auto row = [&](const char* name, auto make) {
    double rate[2];
    int k = 0;
    for (auto precision : {torch::kFloat32, torch::kBFloat16}) {
      torch::manual_seed(1);
      auto net = make();
      rate[k++] = images_per_second(net, *encoder, batch, seconds, precision);
    }
    std::printf("| %s | %s | %.1f | %.1f | %.2fx |\n", name, malloc_setting, rate[0], rate[1],
                rate[1] / rate[0]);
    std::fflush(stdout);
  };
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      if (!spikevid::keep_freed_cpu_memory()) break;
      malloc_setting = "freed memory kept";
    }
    row("sid", [&] { return spikevid::Sid(n); });
    row("sid-lite", [&] { return spikevid::SidLite(n); });
    row("sid-lite width 1024", [&] { return spikevid::SidLite(n, 1024); });
  }
  return 0;
}
