#include "models/precision_check.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "models/model_file.h"

namespace spikevid {
namespace {

const nlohmann::json* check_of(const nlohmann::json& meta, const std::string& precision) {
  if (!meta.is_object()) return nullptr;
  const auto all = meta.find("precision_check");
  if (all == meta.end() || !all->is_object()) return nullptr;
  const auto one = all->find(precision);
  if (one == all->end() || !one->is_object()) return nullptr;
  return &*one;
}

double number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

bool precision_checked_ok(const nlohmann::json& meta, const std::string& precision) {
  const auto* c = check_of(meta, precision);
  if (!c) return false;
  const double a = number(*c, "ssim_float32"), b = number(*c, "ssim");
  // From the scores themselves, not a flag a hand-edited file could set.
  return std::isfinite(a) && std::isfinite(b) && a - b <= kPrecisionTolerance;
}

std::string precision_check_summary(const nlohmann::json& meta, const std::string& precision) {
  const auto* c = check_of(meta, precision);
  if (!c) return "not checked";
  const double a = number(*c, "ssim_float32"), b = number(*c, "ssim"), n = number(*c, "n");
  if (!std::isfinite(a) || !std::isfinite(b)) return "check unreadable";
  std::ostringstream s;
  s << std::fixed << std::setprecision(4) << std::abs(a - b) << " SSIM "
    << (b <= a ? "below" : "above") << " float32";
  if (std::isfinite(n)) s << " on " << static_cast<long long>(n) << " test patches";
  return s.str();
}

void record_precision_check(const std::string& path, const std::string& precision,
                            nlohmann::json record) {
  auto meta = read_model_file(path).meta;
  const double a = record.at("ssim_float32").get<double>(), b = record.at("ssim").get<double>();
  record["difference"] = a - b;
  record["within_tolerance"] = a - b <= kPrecisionTolerance;
  record["tolerance"] = kPrecisionTolerance;
  meta["precision_check"][precision] = std::move(record);
  rewrite_model_meta(path, meta);
}

}  // namespace spikevid
