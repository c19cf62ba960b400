#pragma once
// What a model file records about its arithmetic: `spikevid check-precision
// --record` scores the model in a lower precision against float32 on held-out
// test patches and writes the result into the file's meta:
//   "precision_check": {"bfloat16": {"ssim_float32", "ssim", "difference",
//                       "n", "data", "within_tolerance", "command"}}
// The line's precision `auto` uses a lower precision for a model only where
// its file records that it stays within kPrecisionTolerance SSIM of float32.
#include <string>

#include <nlohmann/json.hpp>

namespace spikevid {

constexpr double kPrecisionTolerance = 0.005;  // SSIM

// Whether the meta records a check of `precision` ("bfloat16", "float16")
// that stayed within the tolerance.
bool precision_checked_ok(const nlohmann::json& meta, const std::string& precision);
// For the user, one phrase: "0.0004 SSIM below float32 on 2000 test patches",
// or "not checked".
std::string precision_check_summary(const nlohmann::json& meta, const std::string& precision);
// Writes `record` (ssim_float32, ssim, n, data, command; difference and
// within_tolerance are added) under the precision's name into the file's meta;
// the tensors stay byte for byte (models/model_file.h, rewrite_model_meta).
void record_precision_check(const std::string& path, const std::string& precision,
                            nlohmann::json record);

}  // namespace spikevid
