#pragma once
// A FrameSink (stages/sink.h) that keeps nothing: frames are counted and
// dropped. For benchmarks and runs that only want the figures (--no-window
// without -o). The worked example of a sink: this file, SinkKind::null in
// stages/line.h and its case in stages/line.cpp.
#include "stages/sink.h"

namespace spikevid {

class NullSink final : public FrameSink {
 public:
  void write(const Composed&) override { ++frames_; }
  void finish() override {}
};

}  // namespace spikevid
