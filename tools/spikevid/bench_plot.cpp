#include "tools/spikevid/bench_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {

constexpr int kWidth = 960, kPanel = 300, kLeft = 70, kRight = 20, kTop = 40, kGap = 60;
const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225), kBlue(200, 110, 30), kGreen(60, 150, 40),
    kRed(40, 40, 210), kGray(170, 170, 170);

void text(cv::Mat& m, const std::string& s, int x, int y, double scale = 0.45,
          const cv::Scalar& c = kInk) {
  cv::putText(m, s, cv::Point(x, y), cv::FONT_HERSHEY_SIMPLEX, scale, c, 1, cv::LINE_AA);
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return b;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

void write_png(const std::string& path, const cv::Mat& image) {
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", image, png)) throw std::runtime_error(path + ": cannot write the PNG");
  write_output_file(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  });
}

void write_latency_plot(const std::string& path, const std::vector<double>& lat, std::size_t warmup,
                        const std::string& title) {
  const int height = kTop + 2 * kPanel + kGap + 50;
  cv::Mat m(height, kWidth, CV_8UC3, cv::Scalar(255, 255, 255));
  text(m, "end-to-end latency: " + title, kLeft, 24, 0.55);
  std::vector<double> kept(lat.begin() + static_cast<long>(std::min(warmup, lat.size())),
                           lat.end());
  const int pw = kWidth - kLeft - kRight;
  if (kept.size() >= 2) {
    const double p50 = quantile(kept, 0.5), p99 = quantile(kept, 0.99);
    const double hi = std::max(*std::max_element(kept.begin(), kept.end()), 1e-3);
    // Distribution: 60 bins from 0 to the maximum.
    const int bins = 60;
    std::vector<int> count(bins, 0);
    for (double v : kept) ++count[std::min(bins - 1, static_cast<int>(v / hi * bins))];
    const int cmax = *std::max_element(count.begin(), count.end());
    const int y0 = kTop + kPanel;
    for (int b = 0; b < bins; ++b) {
      const int x1 = kLeft + b * pw / bins, x2 = kLeft + (b + 1) * pw / bins - 1;
      const int h = static_cast<int>(static_cast<double>(count[b]) / cmax * (kPanel - 20));
      cv::rectangle(m, cv::Point(x1, y0 - h), cv::Point(x2, y0), kBlue, cv::FILLED);
    }
    cv::line(m, cv::Point(kLeft, y0), cv::Point(kLeft + pw, y0), kInk);
    for (int t = 0; t <= 5; ++t) {
      const int x = kLeft + t * pw / 5;
      cv::line(m, cv::Point(x, y0), cv::Point(x, y0 + 5), kInk);
      text(m, fmt(hi * t / 5) + " ms", t == 5 ? x - 60 : x - 20, y0 + 20);
    }
    text(m, "frames", 8, kTop + 20);
    text(m, std::to_string(cmax), 8, kTop + 40);
    auto mark = [&](double v, const cv::Scalar& c, const std::string& label, int dy) {
      const int x = kLeft + static_cast<int>(v / hi * pw);
      cv::line(m, cv::Point(x, kTop), cv::Point(x, y0), c, 2);
      text(m, label + " " + fmt(v) + " ms", std::min(x + 5, kWidth - 150), kTop + dy, 0.5, c);
    };
    mark(p50, kGreen, "p50", 16);
    mark(p99, kRed, "p99", 36);
    // Over time.
    const int t0 = y0 + kGap, t1 = t0 + kPanel;
    const double top = std::max(*std::max_element(lat.begin(), lat.end()), 1e-3);
    for (int t = 0; t <= 4; ++t) {
      const int y = t1 - t * kPanel / 4;
      cv::line(m, cv::Point(kLeft, y), cv::Point(kLeft + pw, y), kGrid);
      text(m, fmt(top * t / 4), 8, y + 4);
    }
    text(m, "ms", 8, t0 - 8);
    const double n = static_cast<double>(lat.size());
    for (std::size_t i = 0; i < lat.size(); ++i) {
      const int x = kLeft + static_cast<int>(static_cast<double>(i) / std::max(1.0, n - 1) * pw);
      const int y = t1 - static_cast<int>(lat[i] / top * kPanel);
      cv::circle(m, cv::Point(x, y), 1, i < warmup ? kGray : kBlue, cv::FILLED);
    }
    cv::line(m, cv::Point(kLeft, t1), cv::Point(kLeft + pw, t1), kInk);
    for (int t = 0; t <= 5; ++t) {
      const int x = kLeft + t * pw / 5;
      text(m, std::to_string(static_cast<long long>((n - 1) * t / 5)), x - 10, t1 + 20);
    }
    text(m, "frame (gray: warm-up)", kLeft + pw / 2 - 80, t1 + 40);
  } else {
    text(m, "fewer than 2 frames after warm-up: nothing to plot", kLeft, kTop + 40);
  }
  write_png(path, m);
}

void write_curves_plot(const std::string& path, const std::string& title,
                       const std::string& x_label, const std::string& y_label,
                       const std::vector<std::pair<std::string, std::vector<double>>>& curves) {
  const int height = kTop + kPanel + 120;
  cv::Mat m(height, kWidth, CV_8UC3, cv::Scalar(255, 255, 255));
  text(m, title, kLeft, 24, 0.55);
  double lo = 1e300, hi = -1e300;
  std::size_t n = 0;
  for (const auto& [name, ys] : curves) {
    for (double y : ys) lo = std::min(lo, y), hi = std::max(hi, y);
    n = std::max(n, ys.size());
  }
  if (n < 2 || !(hi >= lo)) {
    lo = 0;
    hi = 1;
    n = std::max<std::size_t>(n, 2);
  }
  const double pad = std::max(0.05 * (hi - lo), 1e-3);
  lo -= pad;
  hi += pad;
  const int pw = kWidth - kLeft - kRight, y0 = kTop + kPanel;
  const auto px = [&](std::size_t i) {
    return kLeft + static_cast<int>(static_cast<double>(i) / static_cast<double>(n - 1) * pw);
  };
  const auto py = [&](double y) { return y0 - static_cast<int>((y - lo) / (hi - lo) * kPanel); };
  for (int k = 0; k <= 4; ++k) {  // grid and y labels
    const double y = lo + (hi - lo) * k / 4;
    cv::line(m, cv::Point(kLeft, py(y)), cv::Point(kLeft + pw, py(y)), kGrid);
    text(m, fmt(y), 8, py(y) + 4);
  }
  for (int k = 0; k <= 6; ++k) {  // x labels
    const auto i = static_cast<std::size_t>(std::lround(static_cast<double>(n - 1) * k / 6));
    text(m, std::to_string(i), px(i) - 6, y0 + 18);
  }
  text(m, x_label, kLeft + pw / 2 - 60, y0 + 38);
  text(m, y_label, 8, kTop - 6);
  const std::vector<cv::Scalar> colours = {
      kGray, kBlue, kGreen, kRed, cv::Scalar(160, 60, 160), cv::Scalar(30, 160, 200), kInk};
  for (std::size_t c = 0; c < curves.size(); ++c) {
    const auto& colour = colours[c % colours.size()];
    const auto& ys = curves[c].second;
    for (std::size_t i = 1; i < ys.size(); ++i)
      cv::line(m, cv::Point(px(i - 1), py(ys[i - 1])), cv::Point(px(i), py(ys[i])), colour, 2,
               cv::LINE_AA);
    const int lx = kLeft + static_cast<int>(c % 4) * (pw / 4),
              ly = y0 + 62 + 20 * static_cast<int>(c / 4);
    cv::line(m, cv::Point(lx, ly - 4), cv::Point(lx + 24, ly - 4), colour, 2, cv::LINE_AA);
    text(m, curves[c].first, lx + 30, ly);
  }
  write_png(path, m);
}

}  // namespace spikevid::cli
