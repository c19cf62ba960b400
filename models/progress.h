#pragma once
// A progress bar on a terminal (frames or images, rate, ETA); a line every
// 30 s when the output is not a terminal, so logs stay readable.
#include <chrono>
#include <iosfwd>
#include <string>

namespace spikevid {

class Progress {
 public:
  Progress(std::ostream& out, std::string label, long long total);
  void update(long long done, const std::string& extra);
  void finish();

 private:
  std::ostream& out_;
  std::string label_;
  long long total_, done_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  std::string extra_;
  void draw();
};

}  // namespace spikevid
