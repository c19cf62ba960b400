#pragma once
// TorchScript exports of the shipped model kinds, for Python and other
// LibTorch users (torch.jit.load): the same arithmetic as the C++ modules in
// eval mode, written as one TorchScript function, float32, with every
// BatchNorm folded into the convolution or linear layer before it and no
// dropout.
//   encoder: images [B,1,S,S] in [0,1] → rates [B,N] in Hz; attributes
//            window_s and bins (counts: torch.poisson(rates·window_s/bins)
//            per bin)
//   decoder: counts [B,N] (bins × cells) → images [B,1,64,64] clamped to [0,1]
#include <string>

#include <torch/csrc/jit/api/module.h>

namespace spikevid {

struct SidImpl;
struct SidLiteImpl;
struct LinearDecoderImpl;
struct CnnEncoderImpl;

torch::jit::Module to_torchscript(const SidImpl& net);
torch::jit::Module to_torchscript(const SidLiteImpl& net);
torch::jit::Module to_torchscript(const LinearDecoderImpl& net);
torch::jit::Module to_torchscript(const CnnEncoderImpl& net, double window_s, int bins);

// Writes `module` as an OutputFile (io/output_file.h: NAME.part-PID under a
// lock, renamed into place when whole). Throws std::runtime_error with one
// line naming the file.
void save_torchscript(torch::jit::Module& module, const std::string& path);

}  // namespace spikevid
