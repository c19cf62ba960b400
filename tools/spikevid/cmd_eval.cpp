// spikevid eval: MSE, PSNR and SSIM of every decoder against the flat mean image.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include <torch/torch.h>

#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/metrics.h"
#include "models/training.h"
#include "tools/spikevid/cli_common.h"
#ifdef SPIKEVID_HAVE_IO
#include "tools/spikevid/eval_images.h"
#endif

namespace spikevid::cli {
namespace {

struct EvalArgs {
  CommonOptions common;
  std::string data, images_dir, encoder = "models/weights/encoder-cnn.svm";
  std::string sid = "models/weights/sid-natural.svm", linear = "models/weights/linear-natural.svm";
  std::string split = "test", json_path, grid_path, save_dir, precision = "float32";
  std::uint64_t seed = 1234;
  int64_t count = 0;
};

void run_eval(EvalArgs& a) {
  const torch::Device device(resolve_device(a.common));
  if (a.data.empty() == a.images_dir.empty())
    throw UsageError("eval: give exactly one of --data and --images");
  auto encoder = load_encoder(a.encoder, device);
  std::map<std::string, std::unique_ptr<Decoder>> decoders;
  if (!a.linear.empty() && a.linear != "none")
    decoders["linear"] = load_decoder(a.linear, encoder->info(), device);
  if (!a.sid.empty() && a.sid != "none")
    decoders["sid"] = load_decoder(a.sid, encoder->info(), device);
  if (a.precision != "float32") {  // what bfloat16 costs in quality
    encoder->set_precision(parse_precision(a.precision));
    for (auto& [name, d] : decoders) d->set_precision(parse_precision(a.precision));
  }

  torch::Tensor images;
  double flat = 0;
  nlohmann::json source;
  if (!a.data.empty()) {
    DatasetOptions o;
    o.device = device;
    const auto data = Dataset::load(a.data, o);
    images = a.split == "val" ? data.val() : data.test();
    std::mt19937_64 rng(1);
    flat = data.train_epoch(4096, rng).mean().item<double>();  // the training set's mean luminance
    source = {{"data", data.describe()}, {"split", a.split}};
  } else {
#ifdef SPIKEVID_HAVE_IO
    images = load_eval_images(a.images_dir).to(device);
    flat = images.mean().item<double>();
    source = {{"images", a.images_dir}};
#else
    throw UsageError("eval --images needs a build with OpenCV");
#endif
  }
  if (a.count > 0 && a.count < images.size(0)) images = images.narrow(0, 0, a.count);
  const int64_t n = images.size(0);

  nlohmann::json results;
  Scores floor_scores;
  auto flat_images = torch::full_like(images, flat);
  floor_scores.n = n;
  floor_scores.mse = mse_per_image(flat_images, images).mean().item<double>();
  floor_scores.psnr = psnr_per_image(flat_images, images).mean().item<double>();
  floor_scores.ssim = ssim_per_image(flat_images, images).mean().item<double>();
  results["mean"] = floor_scores.to_json();
  std::map<std::string, torch::Tensor> outputs;
  for (auto& [name, dec] : decoders) {
    // Every decoder sees the same spikes: one seed, one draw order.
    auto s = evaluate(
        *encoder, [&](const torch::Tensor& x) { return dec->decode(x); }, images, a.seed);
    results[name] = s.to_json();
  }
  std::cout << "spikevid eval: " << n << " images, encoder " << encoder->info().id << " ("
            << encoder->info().n_cells << " cells)\n"
            << std::left << std::setw(10) << "decoder" << std::right << std::setw(10) << "MSE"
            << std::setw(12) << "PSNR (dB)" << std::setw(9) << "SSIM"
            << "\n";
  for (const char* name : {"mean", "linear", "sid"}) {
    if (!results.contains(name)) continue;
    const auto& r = results[name];
    std::cout << std::left << std::setw(10) << name << std::right << std::fixed
              << std::setprecision(5) << std::setw(10) << r["mse"].get<double>()
              << std::setprecision(2) << std::setw(12) << r["psnr"].get<double>()
              << std::setprecision(4) << std::setw(9) << r["ssim"].get<double>() << "\n";
  }
  if (!a.json_path.empty()) {
    nlohmann::json j = {{"decoders", results},
                        {"n", n},
                        {"seed", a.seed},
                        {"source", source},
                        {"encoder", {{"id", encoder->info().id}, {"path", a.encoder}}},
                        {"command", command_line()}};
    j["precision"] = a.precision;
    for (auto& [name, dec] : decoders) j["decoder_files"][name] = dec->info().path;
    std::ofstream out(a.json_path);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error(a.json_path + ": cannot write");
  }
#ifdef SPIKEVID_HAVE_IO
  if (!a.grid_path.empty() || !a.save_dir.empty()) {
    torch::manual_seed(a.seed);
    const int64_t m = a.save_dir.empty() ? std::min<int64_t>(n, 8) : n;
    auto x = images.narrow(0, 0, m);
    auto counts = encoder->spikes(x);
    std::vector<std::pair<std::string, torch::Tensor>> columns;
    for (const char* name : {"linear", "sid"})
      if (decoders.count(name)) columns.emplace_back(name, decoders[name]->decode(counts));
    if (!a.grid_path.empty()) write_eval_grid(a.grid_path, x, counts, encoder->info(), columns, 8);
    if (!a.save_dir.empty()) save_eval_pngs(a.save_dir, x, columns);
  }
#else
  if (!a.grid_path.empty() || !a.save_dir.empty())
    throw UsageError("eval --grid/--save need a build with OpenCV");
#endif
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* e =
      app.add_subcommand("eval", "Score decoders (MSE, PSNR, SSIM) against the flat mean image");
  e->option_defaults()->always_capture_default();
  e->footer(
      "Examples:\n"
      "  spikevid eval --data data/packs/natural.pack --json out/eval.json --grid out/grid.png\n"
      "  spikevid eval --images my_photos/ --save out/recon   (one centred 64x64 crop per image)\n"
      "  spikevid eval --data data/packs/mnist.pack --sid models/weights/sid-mnist.svm --linear "
      "none");
  e->add_option("--data", a->data, "packed data file; scores its test split")
      ->check(CLI::ExistingFile);
  e->add_option("--images", a->images_dir, "a folder of images instead")
      ->check(CLI::ExistingDirectory);
  e->add_option("--split", a->split, "split of --data")->check(CLI::IsMember({"test", "val"}));
  e->add_option("--encoder", a->encoder, "encoder model file, TorchScript .pt, or 'retina'");
  e->add_option("--sid", a->sid, "SID decoder file ('none' to skip)");
  e->add_option("--linear", a->linear, "linear decoder file ('none' to skip)");
  e->add_option("--json", a->json_path, "write the scores as JSON");
  e->add_option("--grid", a->grid_path, "write a PNG grid: input, spikes, linear, SID");
  e->add_option("--save", a->save_dir,
                "write NNNN_input.png, NNNN_sid.png, NNNN_linear.png (16-bit)");
  e->add_option("--count", a->count, "score only the first N images")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  e->add_option("--seed", a->seed, "spike seed")->check(CLI::NonNegativeNumber);
  e->add_option("--precision", a->precision,
                "float32, or bfloat16: the encoder's and decoders' arithmetic")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  add_common_options(*e, a->common);
  e->callback([a] { run_eval(*a); });
}

}  // namespace spikevid::cli
