#include "io/json_parse.h"

#include "io/file_util.h"

namespace spikevid {

namespace {
struct TooDeep {};
}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& path, int max_depth) {
  const auto limit_depth = [max_depth](int depth, nlohmann::json::parse_event_t event,
                                       nlohmann::json&) {
    const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                       event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= max_depth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const TooDeep&) {
    throw_file_error(path, "JSON nests deeper than " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(path, std::string("not valid JSON: ") + e.what());
  }
}

}  // namespace spikevid
