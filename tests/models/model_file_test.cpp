#include <fstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/decoder.h"
#include "models/encoder.h"
#include "models/linear_decoder.h"
#include "models/model_file.h"
#include "models/sid.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;

namespace {

nlohmann::json sid_meta(const EncoderInfo& e, int n_inputs) {
  return {{"kind", "decoder"},
          {"architecture", "sid"},
          {"image_size", 64},
          {"n_inputs", n_inputs},
          {"encoder", {{"id", e.id}, {"n_cells", e.n_cells}}}};
}

}  // namespace

TEST_CASE("model file: round trip keeps every tensor (float32 exactly, float16 rounded)",
          "[model_file]") {
  TempDir dir("mf");
  torch::manual_seed(3);
  Sid a(128);
  const auto hash =
      write_model_file(dir / "a.svm", {{"kind", "decoder"}, {"note", "x"}}, *a, false);
  const auto f = read_model_file(dir / "a.svm");
  CHECK(f.content_hash == hash);
  CHECK(f.meta["note"] == "x");
  Sid b(128);
  load_module_state(*b, f, dir / "a.svm");
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) CHECK(torch::equal(p.value(), pb[p.key()]));

  write_model_file(dir / "h.svm", {}, *a, true);
  Sid c(128);
  load_module_state(*c, read_model_file(dir / "h.svm"), dir / "h.svm");
  for (const auto& p : pa)
    CHECK(torch::allclose(p.value(), c->named_parameters()[p.key()], 1e-3, 1e-4));
  CHECK(std::filesystem::file_size(dir / "h.svm") <
        std::filesystem::file_size(dir / "a.svm") * 0.6);
}

TEST_CASE("model file: damaged, truncated and foreign files fail with one line naming the file",
          "[model_file]") {
  TempDir dir("mf-bad");
  Sid a(16);
  write_model_file(dir / "a.svm", {}, *a, true);
  std::ifstream in(dir / "a.svm", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir / name, std::ios::binary) << content;
    return dir / name;
  };
  auto one_line = [](const std::string& path) {
    try {
      read_model_file(path);
    } catch (const std::runtime_error& e) {
      const std::string m = e.what();
      CHECK(m.find('\n') == std::string::npos);
      CHECK(m.rfind(path, 0) == 0);
      return m;
    }
    FAIL("no error for " << path);
    return std::string();
  };
  CHECK_THAT(one_line(write("trunc.svm", bytes.substr(0, bytes.size() - 100))),
             Catch::Contains("truncated"));
  CHECK_THAT(one_line(write("head.svm", bytes.substr(0, 30))), Catch::Contains("truncated"));
  CHECK_THAT(one_line(write("magic.svm", "GIF89a" + bytes.substr(6))),
             Catch::Contains("bad magic"));
  auto flipped = bytes;
  flipped[bytes.size() - 1] ^= 0x55;
  CHECK_THAT(one_line(write("flip.svm", flipped)), Catch::Contains("damaged"));
  CHECK_THAT(one_line(write("empty.svm", "")), Catch::Contains("not a spikevid model file"));
  CHECK_THAT(one_line(dir.path.string()), Catch::Contains(dir.path.string()));
}

TEST_CASE("model file: wrong architecture and wrong cell count are refused", "[model_file]") {
  TempDir dir("mf-arch");
  Sid sid(64);
  write_model_file(dir / "sid.svm", {}, *sid, true);
  LinearDecoder lin(64, 64);
  CHECK_THROWS_WITH(load_module_state(*lin, read_model_file(dir / "sid.svm"), dir / "sid.svm"),
                    Catch::Contains("lacks tensor") && Catch::Contains("sid.svm"));
  Sid bigger(128);
  CHECK_THROWS_WITH(load_module_state(*bigger, read_model_file(dir / "sid.svm"), dir / "sid.svm"),
                    Catch::Contains("wrong cell count"));
}

TEST_CASE("decoder files: a decoder of another encoder fails naming both", "[model_file]") {
  TempDir dir("mf-enc");
  auto small = load_encoder("retina:grid=8", torch::kCPU);
  auto other = load_encoder("retina:grid=9", torch::kCPU);
  Sid sid(small->info().n_cells);
  write_model_file(dir / "d.svm", sid_meta(small->info(), small->info().n_cells), *sid, true);
  auto ok = load_decoder(dir / "d.svm", small->info(), torch::kCPU);
  CHECK(ok->info().architecture == "sid");
  auto y = ok->decode(small->spikes(torch::rand({2, 1, 64, 64})));
  CHECK(y.sizes() == torch::IntArrayRef({2, 1, 64, 64}));
  CHECK(y.min().item<float>() >= 0);
  CHECK(y.max().item<float>() <= 1);
  CHECK_THROWS_WITH(load_decoder(dir / "d.svm", other->info(), torch::kCPU),
                    Catch::Contains(small->info().id) && Catch::Contains(other->info().id));
  CHECK_THROWS_WITH(load_encoder(dir / "d.svm", torch::kCPU), Catch::Contains("not an encoder"));
}
