#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/decoder.h"
#include "models/encoder.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;

// The test builds its own TorchScript modules in C++, as a user's
// torch.jit.save from Python would: an encoder [B,1,64,64] → [B,N] rates and
// a decoder [B,N] → [B,1,64,64].
TEST_CASE("torchscript: a user's encoder and decoder load and run", "[torchscript]") {
  TempDir dir("ts");
  torch::jit::Module enc("UserEncoder");
  enc.register_parameter("w", torch::full({16 * 16, 8}, 0.5), false);
  enc.define(R"(
def forward(self, x):
    pooled = x.reshape(x.size(0), 16, 4, 16, 4).mean(4).mean(2)
    return torch.relu(pooled.flatten(1).matmul(self.w)) * 10.0
)");
  enc.save(dir / "enc.pt");
  torch::jit::Module dec("UserDecoder");
  dec.define(R"(
def forward(self, counts):
    b = counts.size(0)
    return torch.sigmoid(counts.sum(1)).view(b, 1, 1, 1).expand(b, 1, 64, 64)
)");
  dec.save(dir / "dec.pt");

  auto e = load_encoder(dir / "enc.pt", torch::kCPU);
  CHECK(e->info().architecture == "torchscript");
  CHECK(e->info().n_cells == 8);
  auto x = torch::full({3, 1, 64, 64}, 0.5);
  auto r = e->rates(x);
  CHECK(torch::allclose(r, torch::full({3, 8}, 0.5 * 0.5 * 256 * 10)));
  auto d = load_decoder(dir / "dec.pt", e->info(), torch::kCPU);
  auto y = d->decode(torch::zeros({3, 1, 8}));
  CHECK(y.sizes() == torch::IntArrayRef({3, 1, 64, 64}));
  CHECK(y[0][0][5][5].item<float>() == Approx(0.5));

  // A decoder of the wrong shape is refused with its path.
  auto narrow = load_encoder("retina:grid=2", torch::kCPU);  // 8 cells, decodes fine
  CHECK_NOTHROW(load_decoder(dir / "dec.pt", narrow->info(), torch::kCPU));
  torch::jit::Module bad("Bad");
  bad.define(R"(
def forward(self, counts):
    return counts
)");
  bad.save(dir / "bad.pt");
  CHECK_THROWS_WITH(load_decoder(dir / "bad.pt", e->info(), torch::kCPU),
                    Catch::Contains("bad.pt"));
  std::ofstream(dir / "junk.pt") << "not a zip";
  CHECK_THROWS_WITH(load_encoder(dir / "junk.pt", torch::kCPU), Catch::Contains("junk.pt"));
}
