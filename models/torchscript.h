#pragma once
// Users' own models: any TorchScript module (torch.jit.save) mapping
// [B,1,64,64] images to [B,N] rates serves as an encoder, and one mapping
// [B,N] counts to [B,1,64,64] images as a decoder. The jit headers stay here.
#include <memory>
#include <string>

#include <torch/types.h>

namespace spikevid {

class Encoder;
class Decoder;

std::unique_ptr<Encoder> load_torchscript_encoder(const std::string& path, torch::Device device);
// Probes the module once with zeros: its input and output shapes must fit.
std::unique_ptr<Decoder> load_torchscript_decoder(const std::string& path, int n_inputs,
                                                  int image_size, torch::Device device);

}  // namespace spikevid
