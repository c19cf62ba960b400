#pragma once
// The cells an encoder models: what a spike count column means. No torch here:
// spike files and the view use it too.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace spikevid {

enum class CellType { on = 0, off = 1 };

struct CellInfo {
  CellType type = CellType::on;
  float x = 0;  // receptive-field centre, input pixels (0 = left edge)
  float y = 0;
  float center_sigma = 1;    // centre Gaussian sigma, pixels
  float surround_sigma = 3;  // surround Gaussian sigma, pixels (0: none)
};

using CellTable = std::vector<CellInfo>;

const char* to_string(CellType type);
nlohmann::json cells_to_json(const CellTable& cells);
// Throws std::runtime_error on a malformed table.
CellTable cells_from_json(const nlohmann::json& j);
int count_cells(const CellTable& cells, CellType type);

}  // namespace spikevid
