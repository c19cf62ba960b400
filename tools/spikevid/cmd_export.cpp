// spikevid export (models as TorchScript files), spikevid relink (a SID-lite's
// ridge path by reference).
#include <filesystem>
#include <iostream>
#include <memory>

#include <torch/torch.h>

#include "io/output_file.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/ridge_path.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {
namespace fs = std::filesystem;

struct ExportArgs {
  std::string out_dir, encoder = "models/weights/encoder-cnn.svm";
  std::vector<std::string> decoders = {"models/weights/sid-lite-natural.svm",
                                       "models/weights/sid-natural.svm",
                                       "models/weights/linear-natural.svm"};
};

void run_export(const ExportArgs& a) {
  std::error_code ec;
  if (!fs::is_directory(a.out_dir, ec))
    throw std::runtime_error(a.out_dir + ": folder does not exist");
  const auto out = [&](const std::string& model) {
    return (fs::path(a.out_dir) / fs::path(model).stem()).string() + ".pt";
  };
  std::vector<std::string> outputs = {out(a.encoder)}, inputs = {a.encoder};
  for (const auto& d : a.decoders) {
    outputs.push_back(out(d));
    inputs.push_back(d);
  }
  check_outputs(outputs, inputs);  // two models of one name, or an output that is a model
  torch::NoGradGuard no_grad;
  const auto cpu = torch::Device(torch::kCPU);
  auto encoder = load_encoder(a.encoder, cpu);
  std::vector<std::unique_ptr<Decoder>> decoders;
  for (const auto& d : a.decoders) decoders.push_back(load_decoder(d, encoder->info(), cpu));
  encoder->save_torchscript(outputs[0]);
  std::cout << "export: " << outputs[0] << " (encoder " << encoder->info().id << ", "
            << encoder->info().n_cells << " cells)\n";
  for (size_t i = 0; i < decoders.size(); ++i) {
    decoders[i]->save_torchscript(outputs[i + 1]);
    std::cout << "export: " << outputs[i + 1] << " (" << decoders[i]->info().architecture
              << " decoder)\n";
  }
}

struct RelinkArgs {
  std::string model, linear, out;
};

void run_relink(const RelinkArgs& a) {
  check_outputs({a.out}, {a.model, a.linear});
  const double diff = store_ridge_by_reference(a.model, a.linear, a.out);
  std::cout << "relink: wrote " << a.out << ", its ridge path by reference to " << a.linear
            << " (the two agreed to " << diff << ")\n";
}

}  // namespace

void add_export_commands(CLI::App& app) {
  auto ea = std::make_shared<ExportArgs>();
  auto* e = app.add_subcommand(
      "export", "Write the encoder and decoders as TorchScript files for Python (torch.jit.load)");
  e->option_defaults()->always_capture_default();
  e->footer(
      "Each model becomes OUT_DIR/NAME.pt, in float32, BatchNorm folded in:\n"
      "  encoder: images [B,1,64,64] in [0,1] -> rates [B,N] in Hz; attributes window_s and bins\n"
      "           (counts per bin: torch.poisson(rates * window_s / bins))\n"
      "  decoder: counts [B,N] -> images [B,1,64,64] in [0,1]\n"
      "Example:\n"
      "  spikevid export --torchscript out/ts\n"
      "  /usr/bin/python3 -c 'import torch; d = torch.jit.load(\"out/ts/sid-lite-natural.pt\")'");
  e->add_option("--torchscript", ea->out_dir, "folder to write the .pt files into")->required();
  e->add_option("--encoder", ea->encoder, "encoder model file");
  e->add_option("--decoder", ea->decoders, "decoder model files, trained with the encoder");
  e->callback([ea] { run_export(*ea); });

  auto ra = std::make_shared<RelinkArgs>();
  auto* r = app.add_subcommand(
      "relink",
      "Rewrite a SID-lite decoder with a ridge path so that it names the linear decoder "
      "file, relative to its new folder (models/ridge_path.h): 6.5 MB instead of 23 MB, "
      "or a training run's output moved beside the linear decoder");
  r->footer(
      "Example:\n"
      "  spikevid relink out/weights/sid-lite-ridge.svm --ridge-path "
      "models/weights/linear-scenes.svm \\\n"
      "      -o models/weights/sid-lite-natural.svm");
  r->add_option("model", ra->model,
                "SID-lite decoder file with a ridge path (held, or by reference)")
      ->required()
      ->check(CLI::ExistingFile);
  r->add_option("--ridge-path", ra->linear,
                "the linear decoder its ridge path was made from (checked to agree)")
      ->required()
      ->check(CLI::ExistingFile);
  r->add_option("-o,--out", ra->out, "decoder model file to write")->required();
  r->callback([ra] { run_relink(*ra); });
}

}  // namespace spikevid::cli
