#include "tools/spikevid/eval_images.h"

#include <filesystem>
#include <iostream>

#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/crop_resize.h"
#include "io/image_folder.h"
#include "models/dataset.h"
#include "models/encoder.h"
#include "tools/spikevid/bench_plot.h"

namespace spikevid::cli {
namespace {

constexpr int kScale = 2;  // grid cells are shown 2× for a person to see

// An image [1,S,S] in [0,1] as a gray cv::Mat of `depth` (CV_8U or CV_16U).
cv::Mat to_gray(const torch::Tensor& image, int depth) {
  const double top = depth == CV_16U ? 65535 : 255;
  auto t = image.detach().to(torch::kCPU, torch::kFloat32).squeeze(0).clamp(0, 1).contiguous();
  cv::Mat unit(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32FC1, t.data_ptr());
  cv::Mat out;
  unit.convertTo(out, depth, top);  // rounds to nearest
  return out;
}

cv::Mat spike_map(const torch::Tensor& counts, const EncoderInfo& e) {  // counts [bins,N]
  const int s = e.image_size;
  cv::Mat map(s, s, CV_32FC3, cv::Scalar(0, 0, 0));
  auto c = counts.detach().to(torch::kCPU, torch::kFloat32).sum(0).contiguous();
  const float* v = c.data_ptr<float>();
  for (int i = 0; i < e.n_cells && i < static_cast<int>(e.cells.size()); ++i) {
    const auto& cell = e.cells[i];
    const int x = std::min(s - 1, std::max(0, static_cast<int>(cell.x)));
    const int y = std::min(s - 1, std::max(0, static_cast<int>(cell.y)));
    auto& px = map.at<cv::Vec3f>(y, x);
    px[cell.type == CellType::on ? 2 : 0] += v[i];  // BGR: ON red, OFF blue
  }
  // Each type scaled to its own largest count, square-rooted: a few busy cells
  // would otherwise leave the map black.
  std::vector<cv::Mat> bgr;
  cv::split(map, bgr);
  for (auto& ch : bgr) {
    double max_v = 0;
    cv::minMaxLoc(ch, nullptr, &max_v);
    if (max_v > 0) cv::sqrt(ch / max_v, ch);
  }
  cv::merge(bgr, map);
  cv::Mat out;
  map.convertTo(out, CV_8UC3, 255.0);
  return out;
}

}  // namespace

torch::Tensor load_eval_images(const std::string& dir) {
  const auto folder = read_image_folder(dir);
  for (const auto& name : folder.skipped)
    std::cerr << "eval: warning: " << (std::filesystem::path(dir) / name).string()
              << ": cannot be decoded, skipped\n";
  if (!folder.skipped.empty())
    std::cerr << "eval: skipped " << folder.skipped.size() << " files in " << dir << "\n";
  std::vector<torch::Tensor> images;
  for (const auto& named : folder.images) {
    const auto crop = center_crop_resize(named.image, kPatchSize);
    images.push_back(to_model_image(crop.pixels.data(), crop.width, crop.height));
  }
  if (images.empty()) throw std::runtime_error(dir + ": no image OpenCV can read");
  return torch::cat(images);
}

void write_eval_grid(const std::string& path, const torch::Tensor& inputs,
                     const torch::Tensor& counts, const EncoderInfo& encoder,
                     const std::vector<std::pair<std::string, torch::Tensor>>& columns, int rows) {
  std::vector<cv::Mat> lines;
  const int n = static_cast<int>(std::min<int64_t>(rows, inputs.size(0)));
  for (int i = 0; i < n; ++i) {
    std::vector<cv::Mat> tiles;
    cv::Mat in;
    cv::cvtColor(to_gray(inputs[i], CV_8U), in, cv::COLOR_GRAY2BGR);
    tiles.push_back(in);
    tiles.push_back(spike_map(counts[i], encoder));
    for (const auto& col : columns) {
      cv::Mat g;
      cv::cvtColor(to_gray(col.second[i], CV_8U), g, cv::COLOR_GRAY2BGR);
      tiles.push_back(g);
    }
    cv::Mat line;
    cv::hconcat(tiles, line);
    lines.push_back(line);
  }
  cv::Mat grid;
  cv::vconcat(lines, grid);
  cv::resize(grid, grid, cv::Size(), kScale, kScale, cv::INTER_NEAREST);
  write_png(path, grid);
}

void save_eval_pngs(const std::string& dir, const torch::Tensor& inputs,
                    const std::vector<std::pair<std::string, torch::Tensor>>& columns) {
  std::filesystem::create_directories(dir);
  auto write16 = [&](const torch::Tensor& image, const std::string& name) {
    const cv::Mat m16 = to_gray(image, CV_16U);
    const auto path = (std::filesystem::path(dir) / name).string();
    write_png(path, m16);
  };
  for (int64_t i = 0; i < inputs.size(0); ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%04lld_", static_cast<long long>(i));
    write16(inputs[i], std::string(prefix) + "input.png");
    for (const auto& col : columns)
      write16(col.second[i], std::string(prefix) + col.first + ".png");
  }
}

}  // namespace spikevid::cli
