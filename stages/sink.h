#pragma once
// Inputs: ComposedPtr (BGR frames of one size). Outputs: none (the last stage).
// Where a line's frames go. Threading: write() runs on one thread at a time;
// finish() after the last write(), on any thread. Blocking: while a file's
// encoder or a window catches up.
// A new sink: a class here (see null_sink.h), a SinkKind and its case in
// stages/line.cpp.
#include <cstdint>

#include "stages/items.h"

namespace spikevid {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Throws std::runtime_error ("WHERE: problem") on a stream error (a full disk, a closed window).
  virtual void write(const Composed& frame) = 0;
  // Finalizes the output (an mp4 gets its index and is renamed into place).
  // Idempotent; called on every exit path, errors included.
  virtual void finish() = 0;
  std::int64_t frames() const { return frames_; }

 protected:
  std::int64_t frames_ = 0;
};

}  // namespace spikevid
