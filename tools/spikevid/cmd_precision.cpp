// spikevid check-precision: what a lower precision costs each model, on
// held-out test patches, and (--record) the result written into the model
// files, where the line's precision `auto` reads it (models/precision_check.h).
// spikevid set-filter: a temporal decoder's output filter (models/decoder.h),
// written into its model file.
#include <cmath>
#include <iomanip>
#include <iostream>

#include <torch/torch.h>

#include "io/output_file.h"
#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/model_file.h"
#include "models/precision_check.h"
#include "models/training.h"
#include "stages/decode_stage.h"
#include "stages/settings.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {

struct CheckArgs {
  CommonOptions common;
  std::string data, encoder = "models/weights/encoder-cnn.svm", precision = "bfloat16", json_path;
  std::vector<std::string> decoders{kDefaultDecoder};
  std::uint64_t seed = 1234;
  std::int64_t count = 0;
  bool record = false;
  bool decoders_only = false;
};

void run_check_precision(CheckArgs& a) {
  const torch::Device device(resolve_device(a.common));
  Precision low;
  try {
    low = parse_precision_setting(a.precision);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (low == Precision::float32)
    throw UsageError("--precision float32: the check compares a lower precision with float32");
  if (const auto problem =
          settings_problem(device.is_cuda() ? Device::cuda : Device::cpu, low, false);
      !problem.empty())
    throw UsageError(problem);
  {  // the report must not be written over a model or the data (--record rewrites the models)
    std::vector<std::string> inputs{a.data, a.encoder};
    inputs.insert(inputs.end(), a.decoders.begin(), a.decoders.end());
    check_outputs({a.json_path}, inputs);
  }
  DatasetOptions o;
  o.device = device;
  const auto data = Dataset::load(a.data, o);
  auto images = data.test();
  if (a.count > 0 && a.count < images.size(0)) images = images.narrow(0, 0, a.count);
  const auto n = images.size(0);
  if (n == 0) throw std::runtime_error(a.data + ": its test split is empty");
  const auto where = data.describe();
  auto encoder = load_encoder(a.encoder, device);
  const auto dtype = dtype_of(low);
  nlohmann::json report = {{"precision", a.precision},
                           {"n", n},
                           {"data", a.data},
                           {"seed", a.seed},
                           {"command", command_line()}};
  auto record = [&](const std::string& path, double ssim32, double ssim_low) {
    nlohmann::json r = {
        {"ssim_float32", ssim32},           {"ssim", ssim_low}, {"n", n},
        {"data", a.data + " (test split)"}, {"seed", a.seed},   {"command", command_line()}};
    report["models"][path] = r;
    const bool ok = ssim32 - ssim_low <= kPrecisionTolerance;
    std::cout << std::fixed << std::setprecision(4) << path << ": float32 " << ssim32 << ", "
              << a.precision << " " << ssim_low << " SSIM (" << std::showpos << ssim_low - ssim32
              << std::noshowpos << "; " << (ok ? "within" : "beyond") << " the "
              << kPrecisionTolerance << " tolerance)\n";
    if (a.record) record_precision_check(path, a.precision, r);
  };
  std::cout << "check-precision: " << a.precision << " against float32 on " << n
            << " test patches of " << a.data << "\n";
  for (std::size_t i = 0; i < a.decoders.size(); ++i) {
    const auto& path = a.decoders[i];
    auto full = load_decoder(path, encoder->info(), device);
    auto lowered = load_decoder(path, encoder->info(), device);
    lowered->set_precision(dtype);
    // The same spikes for both: the decoder alone changes.
    const double s32 =
        evaluate(
            *encoder, [&](const torch::Tensor& x) { return full->decode(x); }, images, a.seed)
            .ssim;
    const double slow =
        evaluate(
            *encoder, [&](const torch::Tensor& x) { return lowered->decode(x); }, images, a.seed)
            .ssim;
    record(path, s32, slow);
    // The encoder, once, through the first decoder in float32: the encoder
    // alone changes. float16 is the decoder's alone (the encoder stays float32).
    if (i == 0 && low == Precision::bfloat16 && a.encoder != "retina" && !a.decoders_only) {
      auto encoder_low = load_encoder(a.encoder, device);
      encoder_low->set_precision(dtype);
      const double senc =
          evaluate(
              *encoder_low, [&](const torch::Tensor& x) { return full->decode(x); }, images, a.seed)
              .ssim;
      record(a.encoder, s32, senc);
    }
  }
  report["data_description"] = where;
  if (a.record) std::cout << "recorded in each model file (its tensors unchanged)\n";
  if (!a.json_path.empty())
    write_output_file(a.json_path, [&](std::ostream& out) { out << report.dump(2) << "\n"; });
}

void run_set_filter(const std::string& path, const std::string& setting) {
  auto file = read_model_file(path);
  if (file.meta.value("architecture", std::string()) != "sid-lite-gru")
    throw std::runtime_error(path + ": is a " + file.meta.value("architecture", std::string("?")) +
                             " decoder; only sid-lite-gru has an output filter");
  OutputFilter f;
  if (setting != "off") {
    const auto parts = CLI::detail::split(setting, ',');
    if (parts.size() != 3 && parts.size() != 4)
      throw UsageError("set-filter: give ALPHA_MIN,LO,HI[,CUT] (three or four numbers) or off, not " +
                       setting);
    double v[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < parts.size(); ++i)
      if (!CLI::detail::lexical_cast(parts[i], v[i]))
        throw UsageError("set-filter: not a number in " + setting);
    f = OutputFilter{v[0], v[1], v[2], v[3]};
    if (const auto why = f.invalid(); !why.empty()) throw UsageError("set-filter: " + why);
  }
  file.meta["temporal"]["output_filter"] = f.to_json();
  rewrite_model_meta(path, file.meta);
  std::cout << path << ": output filter "
            << (f.on() ? file.meta["temporal"]["output_filter"].dump() : std::string("off"))
            << " (its tensors unchanged)\n";
}

}  // namespace

void add_set_filter_command(CLI::App& app) {
  auto path = std::make_shared<std::string>(), setting = std::make_shared<std::string>();
  auto* c = app.add_subcommand(
      "set-filter",
      "Set a temporal decoder's output filter (a motion-gated running average of its images: "
      "less flicker where the scene holds still), written into its model file");
  c->footer(
      "ALPHA_MIN,LO,HI: per pixel the image is averaged at rate ALPHA_MIN where the local\n"
      "change (|5x5 mean of new - filtered|) is below LO, taken whole above HI; off: none.\n"
      "CUT (optional, default 0: none): a tile whose new frame-by-frame estimate differs from\n"
      "the filtered image by more than CUT (mean over 8x8 blocks of |block mean of the\n"
      "difference|) is a scene cut, and starts afresh (GRU state and filter).\n"
      "Example (the shipped setting, chosen on validation with build/bench/temporal_probe):\n"
      "  spikevid set-filter models/weights/sid-lite-gru-natural.svm 0.25,0.03,0.12,0.08");
  c->add_option("model", *path, "a sid-lite-gru model file")->required()->check(CLI::ExistingFile);
  c->add_option("setting", *setting, "ALPHA_MIN,LO,HI[,CUT] or off")->required();
  c->callback([path, setting] { run_set_filter(*path, *setting); });
}

void add_check_precision_command(CLI::App& app) {
  auto a = std::make_shared<CheckArgs>();
  auto* c = app.add_subcommand(
      "check-precision",
      "Score models in bfloat16 (or float16 on CUDA) against float32 on held-out test patches; "
      "--record writes the result into the model files for --precision auto");
  c->option_defaults()->always_capture_default();
  c->footer(
      "Example:\n"
      "  spikevid check-precision --data data/packs/scenes.pack --decoder "
      "models/weights/sid-lite-natural.svm,models/weights/sid-natural.svm --record");
  c->add_option("--data", a->data, "a packed data file (its test split is scored)")->required();
  c->add_option("--encoder", a->encoder, "encoder model file");
  c->add_option("--decoder", a->decoders, "decoder model files (the first also scores the encoder)")
      ->delimiter(',');
  c->add_option("--precision", a->precision, "bfloat16 (CPU, both models) or float16 (CUDA)");
  c->add_option("--count", a->count, "score only the first N test patches (0: all)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--seed", a->seed, "spike seed")->check(CLI::NonNegativeNumber);
  c->add_flag("--record", a->record, "write each result into its model file");
  c->add_flag("--decoders-only", a->decoders_only,
              "leave the encoder out (its record stays as it is: e.g. checked on other data)");
  c->add_option("--json", a->json_path, "write the results as JSON");
  add_common_options(*c, a->common);
  c->callback([a] { run_check_precision(*a); });
}

}  // namespace spikevid::cli
