// The compose stage alone (the side-by-side view with its overlay, or the
// reconstruction alone), per frame, at a tile grid: what live and transcode
// pay to draw, whatever the source's size (frames reach it at model size).
//
//   build/bench/compose_bench [--tiles 3x4] [--frames 300]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "models/cpu_allocator.h"
#include "models/encoder.h"
#include "stages/compose.h"
#include "stages/tiles.h"

int main(int argc, char** argv) {
  std::string tiles = "3x4";
  int frames = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tiles"))
      tiles = argv[i + 1];
    else if (!std::strcmp(argv[i], "--frames"))
      frames = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "compose_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  using namespace spikevid;
  keep_freed_cpu_memory();
  torch::set_num_threads(1);  // as in the line: one thread per stage
  const TileGrid grid = parse_tile_grid(tiles);
  const auto encoder = load_encoder("models/weights/encoder-cnn.svm", torch::kCPU);
  const auto& e = encoder->info();
  const int t = grid.rows * grid.cols;
  std::printf("compose, %s tiles (%dx%d at model size), %d cells a tile, %d frames, 1 thread\n",
              tiles.c_str(), grid.width(), grid.height(), e.n_cells, frames);
  std::printf("| view | ms/frame (mean) | ms/frame (best) |\n| --- | ---: | ---: |\n");
  for (const char* view : {"side-by-side", "reconstruction"}) {
    ComposeConfig c;
    c.view = view;
    c.cells = e.cells;
    c.tiles = grid;
    c.window_s = e.window_s;
    ComposeStage compose(c);
    compose.set_stage_names({"capture", "preprocess", "encode", "decode", "compose"});
    torch::manual_seed(1);
    const auto image = torch::rand({1, 1, grid.height(), grid.width()});
    const auto output = (image + 0.1 * torch::randn_like(image)).clamp(0, 1);
    const auto counts = torch::poisson(torch::full({t, 1, e.n_cells}, 0.3));
    double total = 0, best = 1e9;
    for (int i = 0; i < frames + 10; ++i) {
      auto r = std::make_unique<Reconstruction>();
      r->image = image;
      r->output = output;
      r->counts = counts;
      r->meta.capture_ns = now_ns();
      const auto t0 = std::chrono::steady_clock::now();
      (void)compose.process(std::move(r));
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i >= 10) total += ms, best = std::min(best, ms);  // after warm-up
    }
    std::printf("| %s | %.2f | %.2f |\n", view, total / frames, best);
  }
  return 0;
}
