// SID-lite's ridge path stored by reference: the decoder file names the
// linear decoder's file instead of holding a copy (models/ridge_path.h).
#include <filesystem>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/linear_decoder.h"
#include "models/model_file.h"
#include "models/ridge_path.h"
#include "models/sid_lite.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kInputs = 256;

nlohmann::json meta_of(const std::string& architecture) {
  return {{"kind", "decoder"}, {"architecture", architecture},
          {"image_size", 64},  {"n_inputs", kInputs},
          {"width", 64},       {"encoder", {{"id", "cnn-test"}, {"n_cells", kInputs}}}};
}

LinearDecoder random_linear(int seed) {
  torch::manual_seed(seed);
  LinearDecoder ridge(kInputs, 64);
  torch::NoGradGuard no_grad;
  ridge->input_mean.copy_(torch::rand({kInputs}));
  ridge->weight.copy_(torch::randn({kInputs, 64 * 64}) * 0.01);
  ridge->output_mean.copy_(torch::rand({64 * 64}));
  return ridge;
}

torch::Tensor decode(SidLite& net, const torch::Tensor& counts) {
  torch::NoGradGuard no_grad;
  net->eval();
  return net->forward(counts);
}

}  // namespace

TEST_CASE(
    "ridge path by reference: the same images from a file a third the size, refused when "
    "the linear decoder is missing, changed or another",
    "[ridge_path]") {
  TempDir dir("ridge-ref");
  fs::create_directories(dir / "weights");
  const std::string lin = dir / "weights/linear.svm", full = dir / "weights/full.svm",
                    ref = dir / "weights/ref.svm";
  auto linear = random_linear(5);
  write_model_file(lin, meta_of("linear"), *linear, true);
  // The decoder as training made it at first: the ridge path inside.
  torch::manual_seed(6);
  SidLite trained(kInputs, 64, true);
  {
    LinearDecoder stored(kInputs, 64);  // the float16 linear file, as training reads it
    load_module_state(*stored, read_model_file(lin), lin);
    trained->start_from_ridge(*stored);
    torch::NoGradGuard no_grad;
    for (auto& p : trained->parameters())
      if (p.requires_grad()) p.add_(torch::randn_like(p) * 0.01);  // some training
  }
  auto m = meta_of("sid-lite");
  m["ridge_path"] = true;
  write_model_file(full, m, *trained, true);

  CHECK(store_ridge_by_reference(full, lin, ref) < 1e-3);
  const auto f = read_model_file(ref);
  for (const auto& t : f.tensors) CHECK(t.first.rfind("ridge.", 0) != 0);
  CHECK(f.meta["ridge_path"]["file"] == "linear.svm");
  CHECK(fs::file_size(ref) < fs::file_size(full) / 3);

  const auto counts = torch::rand({4, kInputs}) * 4;
  SidLite a(kInputs, 64, true), b(kInputs, 64, true);
  load_sid_lite_state(*a, read_model_file(full), full);
  load_sid_lite_state(*b, f, ref);
  CHECK(torch::equal(decode(a, counts), decode(b, counts)));

  // The pair moves together: the reference is relative to the decoder's folder.
  fs::rename(dir / "weights", dir / "moved");
  SidLite c(kInputs, 64, true);
  load_sid_lite_state(*c, read_model_file(dir / "moved/ref.svm"), dir / "moved/ref.svm");
  CHECK(torch::equal(decode(a, counts), decode(c, counts)));
  fs::rename(dir / "moved", dir / "weights");
  // A file with the path by reference (a training run's output in another
  // folder) relinks too: the reference is rewritten for the new folder.
  fs::create_directories(dir / "other");
  const std::string moved = dir / "other/moved.svm";
  CHECK(store_ridge_by_reference(ref, lin, moved) < 1e-3);
  CHECK(read_model_file(moved).meta["ridge_path"]["file"] == "../weights/linear.svm");
  SidLite e(kInputs, 64, true);
  load_sid_lite_state(*e, read_model_file(moved), moved);
  CHECK(torch::equal(decode(a, counts), decode(e, counts)));
  // A SID-lite without a ridge path is refused.
  const std::string plain_file = dir / "weights/plain.svm";
  write_model_file(plain_file, meta_of("sid-lite"), *SidLite(kInputs, 64), true);
  CHECK_THROWS_WITH(store_ridge_by_reference(plain_file, lin, dir / "z.svm"),
                    Catch::Contains("not a SID-lite decoder with a ridge path"));

  // Another linear decoder: relink refuses it; a changed file is refused at load.
  const std::string other = dir / "weights/other.svm";
  write_model_file(other, meta_of("linear"), *random_linear(9), true);
  CHECK_THROWS_WITH(store_ridge_by_reference(full, other, dir / "x.svm"),
                    Catch::Contains("its ridge path is not"));
  fs::copy_file(other, lin, fs::copy_options::overwrite_existing);
  SidLite d(kInputs, 64, true);
  CHECK_THROWS_WITH(load_sid_lite_state(*d, read_model_file(ref), ref),
                    Catch::Contains("has changed"));
  fs::remove(lin);
  CHECK_THROWS_WITH(load_sid_lite_state(*d, read_model_file(ref), ref),
                    Catch::Contains("does not exist"));
  // A network without the path, and a file without one, are refused with a line.
  SidLite plain(kInputs, 64);
  CHECK_THROWS_WITH(load_sid_lite_state(*plain, read_model_file(ref), ref),
                    Catch::Contains("has a ridge path"));
  CHECK_THROWS_WITH(store_ridge_by_reference(ref, other, dir / "y.svm"),
                    Catch::Contains("does not exist"));
  CHECK(has_ridge_path(f.meta));
  CHECK(has_ridge_path(m));
  CHECK_FALSE(has_ridge_path(meta_of("sid-lite")));
}
