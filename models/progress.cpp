#include "models/progress.h"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <iostream>

namespace spikevid {
using Clock = std::chrono::steady_clock;

Progress::Progress(std::ostream& out, std::string label, long long total)
    : out_(out), label_(std::move(label)), total_(total), start_(Clock::now()), last_(start_) {
  tty_ = (&out == &std::cerr && isatty(2)) || (&out == &std::cout && isatty(1));
}

void Progress::update(long long done, const std::string& extra) {
  done_ = done;
  extra_ = extra;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if ((tty_ && since > 0.2) || (!tty_ && since > 30)) {
    last_ = now;
    draw();
  }
}

void Progress::draw() {
  const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = secs > 0 ? done_ / secs : 0;
  const double eta = rate > 0 ? std::max(0.0, static_cast<double>(total_ - done_) / rate) : 0;
  constexpr int kWidth = 24;
  char line[256];
  if (total_ <= 0) {  // unknown (a live source, a stream): the count and the rate
    std::snprintf(line, sizeof line, "%s %lld %.0f/s %s", label_.c_str(), done_, rate,
                  extra_.c_str());
  } else {
    const int filled = static_cast<int>(kWidth * std::min(done_, total_) / total_);
    std::snprintf(line, sizeof line, "%s [%s%s] %lld/%lld %.0f/s ETA %dm%02ds %s", label_.c_str(),
                  std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                  done_, total_, rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60,
                  extra_.c_str());
  }
  out_ << (tty_ ? "\r" : "") << line << (tty_ ? "\033[K" : "\n") << std::flush;
}

void Progress::finish() {
  draw();
  if (tty_) out_ << "\n";
}

}  // namespace spikevid
