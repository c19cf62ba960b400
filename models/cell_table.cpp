#include "models/cell_table.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace spikevid {

const char* to_string(CellType type) { return type == CellType::on ? "on" : "off"; }

// Stored column-wise: a 2,048-cell table stays a few kilobytes of JSON.
nlohmann::json cells_to_json(const CellTable& cells) {
  std::vector<std::string> types;
  std::vector<float> x, y, cs, ss;
  for (const auto& c : cells) {
    types.emplace_back(to_string(c.type));
    x.push_back(c.x);
    y.push_back(c.y);
    cs.push_back(c.center_sigma);
    ss.push_back(c.surround_sigma);
  }
  return {{"count", cells.size()}, {"type", types},       {"x", x}, {"y", y},
          {"center_sigma", cs},    {"surround_sigma", ss}};
}

CellTable cells_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("count"))
    throw std::runtime_error("cell table: missing 'count'");
  const auto n = j.at("count").get<std::size_t>();
  const auto types = j.at("type").get<std::vector<std::string>>();
  const auto x = j.at("x").get<std::vector<float>>();
  const auto y = j.at("y").get<std::vector<float>>();
  const auto cs = j.at("center_sigma").get<std::vector<float>>();
  const auto ss = j.at("surround_sigma").get<std::vector<float>>();
  if (types.size() != n || x.size() != n || y.size() != n || cs.size() != n || ss.size() != n)
    throw std::runtime_error("cell table: columns do not all hold 'count' entries");
  CellTable cells(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (types[i] != "on" && types[i] != "off")
      throw std::runtime_error("cell table: unknown cell type '" + types[i] + "'");
    cells[i] = {types[i] == "on" ? CellType::on : CellType::off, x[i], y[i], cs[i], ss[i]};
  }
  return cells;
}

int count_cells(const CellTable& cells, CellType type) {
  int n = 0;
  for (const auto& c : cells) n += c.type == type;
  return n;
}

}  // namespace spikevid
