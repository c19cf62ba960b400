#pragma once
// What eval reads and writes as pictures (OpenCV builds only).
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace spikevid {
struct EncoderInfo;
}

namespace spikevid::cli {

// One centred, resized 64×64 gray crop per readable image of the folder,
// [M,1,64,64] in [0,1]. Throws if the folder holds none.
torch::Tensor load_eval_images(const std::string& dir);

// Rows of examples: input | spikes (per-cell map, ON red, OFF blue) | each
// decoder's reconstruction, scaled up for viewing.
void write_eval_grid(const std::string& path, const torch::Tensor& inputs,
                     const torch::Tensor& counts, const EncoderInfo& encoder,
                     const std::vector<std::pair<std::string, torch::Tensor>>& columns, int rows);

// NNNN_input.png and NNNN_<decoder>.png, 16-bit gray.
void save_eval_pngs(const std::string& dir, const torch::Tensor& inputs,
                    const std::vector<std::pair<std::string, torch::Tensor>>& columns);

}  // namespace spikevid::cli
