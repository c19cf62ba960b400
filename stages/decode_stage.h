#pragma once
// Inputs: SpikesPtr (counts [T,bins,N]). Outputs: ReconstructionPtr (tiles blended).
// Threading: process() runs on one thread at a time, not always the same one;
// no thread_local. Blocking: never, except on the device it computes on.
// The decoder must have been trained with the encoder whose info it is given.
#include <memory>
#include <string>
#include <vector>

#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {

class Decoder;
struct EncoderInfo;

struct DecodeConfig {
  std::string decoder = "models/weights/sid-natural.svm";
  std::string device = "cpu";
  TileGrid tiles;  // the frame's tiles, blended back (1×1: none)
};

class DecodeStage {
 public:
  DecodeStage(DecodeConfig config, const EncoderInfo& encoder);  // throws on a mismatch
  ~DecodeStage();
  ReconstructionPtr process(SpikesPtr spikes);
  std::vector<ReconstructionPtr> process_batch(std::vector<SpikesPtr> spikes);
  const Decoder& decoder() const { return *decoder_; }

 private:
  DecodeConfig config_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace spikevid
