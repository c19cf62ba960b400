#pragma once
// The benchmark's picture, drawn with OpenCV (no Python): above, the
// distribution of end-to-end latency after warm-up with its p50 and p99;
// below, each frame's latency in order (warm-up frames gray).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cv {
class Mat;
}

namespace spikevid::cli {

// `image` as a PNG at `path`, written as every output is (write_output_file:
// NAME.part-PID under a lock, renamed into place when whole), so an earlier
// file is never half overwritten. Throws std::runtime_error ("PATH: cannot
// write the PNG") when it cannot be encoded or written.
void write_png(const std::string& path, const cv::Mat& image);

// Throws std::runtime_error ("PATH: cannot write") if the PNG cannot be written.
void write_latency_plot(const std::string& path, const std::vector<double>& latency_ms,
                        std::size_t warmup, const std::string& title);

// Curves y against x (one per name, in the given order and in distinct
// colours), with a legend; axes from the data. Throws std::runtime_error
// ("PATH: cannot write") if the PNG cannot be written.
void write_curves_plot(const std::string& path, const std::string& title,
                       const std::string& x_label, const std::string& y_label,
                       const std::vector<std::pair<std::string, std::vector<double>>>& curves);

}  // namespace spikevid::cli
