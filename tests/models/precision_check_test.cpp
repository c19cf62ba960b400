// What a model file records about its arithmetic (models/precision_check.h),
// and the rewrite of a file's meta that keeps its tensors byte for byte.
#include <fstream>
#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/linear_decoder.h"
#include "models/model_file.h"
#include "models/precision_check.h"
#include "tests/models/test_data.h"

using namespace spikevid;
using spikevid::testing::TempDir;

namespace {

std::string data_block(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto bytes = ss.str();
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i)
    len |= std::uint64_t(static_cast<unsigned char>(bytes[12 + i])) << (8 * i);
  return bytes.substr(20 + len);
}

std::string small_model(const TempDir& dir) {
  torch::manual_seed(3);
  LinearDecoder ridge(32, 8);
  const auto path = dir / "linear.svm";
  write_model_file(path, {{"kind", "decoder"}, {"architecture", "linear"}, {"note", "kept"}},
                   *ridge, false);
  return path;
}

}  // namespace

TEST_CASE("rewrite_model_meta keeps the tensors byte for byte and the content hash",
          "[models][precision]") {
  TempDir dir("rewrite-meta");
  const auto path = small_model(dir);
  const auto before = read_model_file(path);
  const auto block = data_block(path);
  auto meta = before.meta;
  meta["added"] = {{"a", 1}};
  rewrite_model_meta(path, meta);
  const auto after = read_model_file(path);
  CHECK(after.content_hash == before.content_hash);
  CHECK(data_block(path) == block);
  CHECK(after.meta["added"]["a"] == 1);
  CHECK(after.meta["note"] == "kept");
  REQUIRE(after.tensors.size() == before.tensors.size());
  for (std::size_t i = 0; i < after.tensors.size(); ++i)
    CHECK(torch::equal(after.tensors[i].second, before.tensors[i].second));
  // A damaged file is refused, with nothing written over it.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x7f');
  }
  const auto damaged = data_block(path);
  CHECK_THROWS_WITH(rewrite_model_meta(path, meta), Catch::Matchers::Contains("damaged"));
  CHECK(data_block(path) == damaged);
}

TEST_CASE("a recorded precision check: within 0.005 SSIM is used, beyond or absent is not",
          "[models][precision]") {
  TempDir dir("precision-check");
  const auto path = small_model(dir);
  CHECK_FALSE(precision_checked_ok(read_model_file(path).meta, "bfloat16"));
  CHECK(precision_check_summary(read_model_file(path).meta, "bfloat16") == "not checked");

  record_precision_check(path, "bfloat16",
                         {{"ssim_float32", 0.7000}, {"ssim", 0.6970}, {"n", 2000}, {"data", "t"}});
  auto meta = read_model_file(path).meta;
  CHECK(precision_checked_ok(meta, "bfloat16"));
  CHECK_FALSE(precision_checked_ok(meta, "float16"));
  CHECK(meta["precision_check"]["bfloat16"]["within_tolerance"] == true);
  CHECK(meta["precision_check"]["bfloat16"]["difference"].get<double>() == Approx(0.003));
  CHECK(precision_check_summary(meta, "bfloat16") ==
        "0.0030 SSIM below float32 on 2000 test patches");
  CHECK(meta["note"] == "kept");

  record_precision_check(path, "bfloat16", {{"ssim_float32", 0.7000}, {"ssim", 0.6900}, {"n", 10}});
  meta = read_model_file(path).meta;
  CHECK_FALSE(precision_checked_ok(meta, "bfloat16"));
  CHECK(meta["precision_check"]["bfloat16"]["within_tolerance"] == false);

  // The scores decide, not the flag: a file that says "within" with scores
  // that are not is not believed; nor one whose scores are not numbers.
  meta["precision_check"]["bfloat16"]["within_tolerance"] = true;
  CHECK_FALSE(precision_checked_ok(meta, "bfloat16"));
  meta["precision_check"]["bfloat16"]["ssim"] = "0.7";
  CHECK_FALSE(precision_checked_ok(meta, "bfloat16"));
  CHECK(precision_check_summary(meta, "bfloat16") == "check unreadable");
  meta["precision_check"] = 5;
  CHECK_FALSE(precision_checked_ok(meta, "bfloat16"));
}
