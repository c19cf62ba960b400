#include "stages/compose.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include "models/metrics.h"

namespace spikevid {

namespace {

// Frames the overlay's running figures cover.
constexpr std::size_t kOverlayWindow = 120;
// Spike counts at which a cell's dot is at full brightness.
constexpr float kFullCount = 3;

cv::Mat to_gray8(const torch::Tensor& image) {  // [1,1,H,W] in [0,1]
  auto t = image.detach()
               .to(torch::kCPU)
               .squeeze()
               .clamp(0, 1)
               .mul(255)
               .round()
               .to(torch::kUInt8)
               .contiguous();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr())
      .clone();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

ComposeStage::ComposeStage(ComposeConfig config) : config_(std::move(config)) {
  if (config_.view != "side-by-side" && config_.view != "reconstruction")
    throw std::invalid_argument("--view: expected side-by-side or reconstruction, got '" +
                                config_.view + "'");
  check_tile_grid(config_.tiles);
  const int h = config_.tiles.height(), w = config_.tiles.width();
  const int scale = config_.scale > 0 ? config_.scale : std::max(1, (320 + h / 2) / h);
  panel_w_ = w * scale;
  panel_h_ = h * scale;
  const int panels = config_.view == "side-by-side" ? 3 : 1;
  bar_h_ = config_.view == "side-by-side" && config_.overlay ? 44 : 0;
  width_ = panels * panel_w_ + (panels - 1) * 4;
  height_ = panel_h_ + bar_h_;
  width_ += width_ % 2;
  height_ += height_ % 2;
}

void ComposeStage::set_stage_names(std::vector<std::string> names) {
  config_.stage_index = static_cast<int>(names.size()) - 1;
  config_.stage_names = std::move(names);
}

ComposedPtr ComposeStage::process(ReconstructionPtr r) {
  auto out = std::make_unique<Composed>();
  out->meta = r->meta;
  out->width = width_;
  out->height = height_;
  cv::Mat canvas(height_, width_, CV_8UC3, cv::Scalar(24, 24, 24));
  auto place_gray = [&](const cv::Mat& gray, int x0) {
    cv::Mat big, bgr;
    cv::resize(gray, big, cv::Size(panel_w_, panel_h_), 0, 0, cv::INTER_NEAREST);
    cv::cvtColor(big, bgr, cv::COLOR_GRAY2BGR);
    bgr.copyTo(canvas(cv::Rect(x0, bar_h_, panel_w_, panel_h_)));
  };
  const bool has_input = r->image.defined();
  if (has_input) {
    last_psnr_ = psnr_per_image(r->output, r->image)[0].item<double>();
    last_ssim_ = ssim_per_image(r->output, r->image)[0].item<double>();
    psnr_sum_ += last_psnr_;
    ssim_sum_ += last_ssim_;
    ++scored_;
  }
  if (config_.view == "reconstruction") {
    place_gray(to_gray8(r->output), 0);
  } else {
    if (has_input) place_gray(to_gray8(r->image), 0);
    // The spike map: each cell's count as a dot at its receptive-field centre.
    const auto& g = config_.tiles;
    const int h = g.height(), w = g.width();
    cv::Mat map(h, w, CV_32FC3, cv::Scalar(0, 0, 0));
    auto c = r->counts.detach().to(torch::kCPU, torch::kFloat32).sum(1).contiguous();  // [T,N]
    const int64_t tiles = c.size(0), n = c.size(1);
    const float* p = c.data_ptr<float>();
    if (static_cast<int64_t>(config_.cells.size()) == n) {
      for (int64_t t = 0; t < tiles; ++t) {
        const int ox = static_cast<int>(t % g.cols) * (g.tile - g.overlap);
        const int oy = static_cast<int>(t / g.cols) * (g.tile - g.overlap);
        for (int64_t i = 0; i < n; ++i) {
          const float v = std::min(1.0f, p[t * n + i] / kFullCount);
          if (v <= 0) continue;
          const auto& cell = config_.cells[static_cast<std::size_t>(i)];
          const int x = ox + static_cast<int>(cell.x), y = oy + static_cast<int>(cell.y);
          if (x < 0 || y < 0 || x >= w || y >= h) continue;
          auto& px = map.at<cv::Vec3f>(y, x);
          if (cell.type == CellType::on)
            px += cv::Vec3f(0.15f * v, 0.25f * v, v);  // red
          else
            px += cv::Vec3f(v, 0.55f * v, 0.1f * v);  // blue
        }
      }
    }
    cv::Mat map8, big;
    map.convertTo(map8, CV_8UC3, 255.0);
    cv::resize(map8, big, cv::Size(panel_w_, panel_h_), 0, 0, cv::INTER_NEAREST);
    big.copyTo(canvas(cv::Rect(panel_w_ + 4, bar_h_, panel_w_, panel_h_)));
    place_gray(to_gray8(r->output), 2 * (panel_w_ + 4));
    if (bar_h_ > 0) {
      recent_.push_back(r->meta);
      recent_spikes_.push_back(c.sum().item<double>());  // the map's counts, summed
      recent_e2e_.push_back(1e-6 * static_cast<double>(now_ns() - r->meta.capture_ns));
      if (recent_.size() > kOverlayWindow) {
        recent_.pop_front();
        recent_spikes_.pop_front();
        recent_e2e_.pop_front();
      }
      const int me = config_.stage_index;
      const std::vector<double> e2e(recent_e2e_.begin(), recent_e2e_.end());
      const double span_s =
          recent_.size() > 1
              ? 1e-9 * static_cast<double>(recent_.back().capture_ns - recent_.front().capture_ns)
              : 0;
      const double fps = span_s > 0 ? static_cast<double>(recent_.size() - 1) / span_s : 0;
      double spike_sum = 0;
      for (double s : recent_spikes_) spike_sum += s;
      const double spikes_per_s =
          spike_sum / static_cast<double>(recent_spikes_.size()) / config_.window_s;
      char line1[256], line2[512];
      std::snprintf(
          line1, sizeof line1,
          "%.1f fps | to view p50 %.1f p99 %.1f ms | %.0fk spikes/s | PSNR %.1f SSIM %.2f", fps,
          percentile(e2e, 0.5), percentile(e2e, 0.99), spikes_per_s / 1000,
          has_input ? last_psnr_ : 0.0, has_input ? last_ssim_ : 0.0);
      std::string stages;
      for (int s = 1; s < me && s < static_cast<int>(config_.stage_names.size()); ++s) {
        std::vector<double> svc;
        for (const auto& m : recent_) svc.push_back(1e-6 * static_cast<double>(m.service_ns(s)));
        char part[96];
        std::snprintf(part, sizeof part, "%s%s %.1f/%.1f", stages.empty() ? "" : " | ",
                      config_.stage_names[static_cast<std::size_t>(s)].c_str(),
                      percentile(svc, 0.5), percentile(svc, 0.99));
        stages += part;
      }
      std::snprintf(line2, sizeof line2, "ms p50/p99: %s", stages.c_str());
      cv::putText(canvas, line1, cv::Point(6, 17), cv::FONT_HERSHEY_SIMPLEX, 0.38,
                  cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
      cv::putText(canvas, line2, cv::Point(6, 37), cv::FONT_HERSHEY_SIMPLEX, 0.38,
                  cv::Scalar(180, 220, 180), 1, cv::LINE_AA);
    }
  }
  out->bgr.assign(canvas.datastart, canvas.dataend);
  return out;
}

}  // namespace spikevid
