// spikevid eval: MSE, PSNR and SSIM of every decoder against the flat mean
// image, on the views users feed: test patches, whole-image views, and clips
// through tiles.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include <torch/torch.h>

#include "io/output_file.h"
#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/metrics.h"
#include "models/training.h"
#include "stages/decode_stage.h"
#include "stages/settings.h"
#include "tools/spikevid/cli_common.h"
#ifdef SPIKEVID_HAVE_IO
#include "io/clip_folder.h"
#include "stages/clip_eval.h"
#include "stages/tiles.h"
#include "tools/spikevid/bench_plot.h"
#include "tools/spikevid/eval_images.h"
#endif

namespace spikevid::cli {
namespace {

struct EvalArgs {
  CommonOptions common;
  std::string data, images_dir, clips, encoder = "models/weights/encoder-cnn.svm";
  std::string sid = kDefaultImageDecoder, linear = "models/weights/linear-natural.svm";
  std::vector<std::string> more;  // NAME=FILE
  std::string split = "test", json_path, grid_path, save_dir, precision = "float32";
  std::string tiles = "3x4";
  std::uint64_t seed = 1234;
  int64_t count = 0;
  int clip_frames = 0;   // frames per clip at most (0: all)
  bool stills = false;   // the held-still view: flicker, and quality after a cut
  std::string cut_plot;  // PNG: SSIM against frames since the cut
};

// The decoders in the order of the table: linear, sid, then the others as given.
using DecoderList = std::vector<std::pair<std::string, std::unique_ptr<Decoder>>>;

DecoderList load_decoders(const EvalArgs& a, const EncoderInfo& encoder, torch::Device device) {
  DecoderList list;
  auto add = [&](const std::string& name, const std::string& path) {
    for (const auto& [n, d] : list)
      if (n == name) throw UsageError("eval: two decoders named '" + name + "'");
    list.emplace_back(name, load_decoder(path, encoder, device));
  };
  if (!a.linear.empty() && a.linear != "none") add("linear", a.linear);
  if (!a.sid.empty() && a.sid != "none") add("sid", a.sid);
  for (const auto& spec : a.more) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw UsageError("--add: expected NAME=FILE, got '" + spec + "'");
    if (spec.substr(0, eq) == "mean") throw UsageError("--add: 'mean' is the flat mean image");
    add(spec.substr(0, eq), spec.substr(eq + 1));
  }
  if (a.precision != "float32")  // what bfloat16 costs in quality
    for (auto& [name, d] : list) d->set_precision(parse_precision(a.precision));
  return list;
}

Scores flat_scores(const torch::Tensor& images, double level) {
  Scores s;
  const auto flat = torch::full_like(images, level);
  s.n = images.size(0);
  s.mse = mse_per_image(flat, images).mean().item<double>();
  s.psnr = psnr_per_image(flat, images).mean().item<double>();
  s.ssim = ssim_per_image(flat, images).mean().item<double>();
  return s;
}

// Every decoder (and the mean image) on one set of images; with `scales`
// (each image's window over its photo's short side), the mean SSIM per scale
// band too, in `by_scale`.
nlohmann::json score_images(Encoder& encoder, DecoderList& decoders, const torch::Tensor& images,
                            double flat, std::uint64_t seed,
                            const std::vector<double>* scales = nullptr,
                            nlohmann::json* by_scale = nullptr) {
  nlohmann::json r = {{"mean", flat_scores(images, flat).to_json()}};
  const std::vector<std::pair<double, double>> bands = {
      {0, 0.1}, {0.1, 0.2}, {0.2, 0.4}, {0.4, 1.01}};
  for (auto& [name, dec] : decoders) {  // every decoder sees the same spikes: one seed
    std::vector<double> each;
    r[name] = evaluate(
                  encoder, [&](const torch::Tensor& x) { return dec->decode(x); }, images, seed,
                  256, scales ? &each : nullptr)
                  .to_json();
    if (!scales || !by_scale || each.size() != scales->size()) continue;
    for (const auto& [lo, hi] : bands) {
      double sum = 0;
      int n = 0;
      for (std::size_t i = 0; i < each.size(); ++i)
        if ((*scales)[i] >= lo && (*scales)[i] < hi) sum += each[i], ++n;
      if (n == 0) continue;
      std::ostringstream band;
      band << lo << "-" << std::min(hi, 1.0);
      (*by_scale)[band.str()]["n"] = n;
      (*by_scale)[band.str()]["ssim"][name] = sum / n;
    }
  }
  return r;
}

#ifdef SPIKEVID_HAVE_IO
// Every decoder on every clip through the tile grid, and the mean over clips
// (each clip weighs the same, whatever its length).
nlohmann::json score_clips(Encoder& encoder, DecoderList& decoders,
                           const std::vector<std::pair<std::string, std::vector<GrayImage>>>& clips,
                           const TileGrid& grid, double flat, torch::Device device,
                           const EvalArgs& a) {
  nlohmann::json per_clip = nlohmann::json::object(), mean = nlohmann::json::object();
  std::map<std::string, Scores> sums;
  for (const auto& [clip, all_frames] : clips) {
    std::vector<GrayImage> frames(all_frames);
    if (a.clip_frames > 0 && frames.size() > static_cast<std::size_t>(a.clip_frames))
      frames.resize(static_cast<std::size_t>(a.clip_frames));
    std::cerr << "eval: clip " << clip << " (" << frames.size() << " frames)\n";
    nlohmann::json r = {{"mean", evaluate_clip_flat(frames, grid, flat).to_json()}};
    for (auto& [name, dec] : decoders) {
      torch::Tensor state;  // a temporal decoder's, from the clip's first frame
      r[name] = evaluate_clip(
                    encoder, [&](const torch::Tensor& x) { return dec->decode_step(x, state); },
                    frames, grid, device, a.seed)
                    .to_json();
    }
    for (const auto& [name, s] : r.items()) {
      auto& sum = sums[name];
      sum.mse += s["mse"].get<double>();
      sum.psnr += s["psnr"].get<double>();
      sum.ssim += s["ssim"].get<double>();
      sum.n += 1;
    }
    per_clip[clip] = {{"frames", frames.size()}, {"decoders", r}};
  }
  for (auto& [name, s] : sums) {
    s.mse /= static_cast<double>(s.n);
    s.psnr /= static_cast<double>(s.n);
    s.ssim /= static_cast<double>(s.n);
    mean[name] = s.to_json();  // n: the number of clips
  }
  return {{"decoders", mean}, {"per_clip", per_clip}, {"tiles", a.tiles}};
}
#endif

// Frames of the held-still view: another photo first, then the cut to the one scored.
constexpr int kStillBefore = 30, kStillAfter = 60, kStillSettled = 10;

// The held-still view (temporal decoders' goals): each image is shown for
// kStillAfter frames after kStillBefore frames of another image (the next
// one), with fresh spikes every frame, all images as parallel sequences. Per
// decoder: SSIM at each frame since the cut, SSIM and PSNR over the frames
// from kStillSettled on, and the flicker: the mean absolute change of the
// output from frame to frame over the held frames (pixel values 0..1).
nlohmann::json score_stills(Encoder& encoder, DecoderList& decoders, const torch::Tensor& images,
                            double flat, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto before = images.roll(1, 0);
  const auto flat_images = torch::full_like(images, flat);
  nlohmann::json r = nlohmann::json::object();
  r["mean"] = {{"ssim", ssim_per_image(flat_images, images).mean().item<double>()},
               {"psnr", psnr_per_image(flat_images, images).mean().item<double>()},
               {"flicker", 0.0}};
  for (auto& [name, dec] : decoders) {
    torch::manual_seed(seed);  // the same spikes for every decoder
    torch::Tensor state, previous;
    for (int t = 0; t < kStillBefore; ++t)
      dec->decode_step(encoder.spikes(before).flatten(1), state);
    std::vector<double> curve;
    double flicker = 0, ssim = 0, psnr = 0;
    for (int t = 0; t < kStillAfter; ++t) {
      auto y = dec->decode_step(encoder.spikes(images).flatten(1), state).to(torch::kFloat32);
      curve.push_back(ssim_per_image(y, images).mean().item<double>());
      if (t >= kStillSettled) {
        ssim += curve.back();
        psnr += psnr_per_image(y, images).clamp_max(100).mean().item<double>();
      }
      if (previous.defined()) flicker += (y - previous).abs().mean().item<double>();
      previous = y;
    }
    const double settled = kStillAfter - kStillSettled;
    r[name] = {{"ssim", ssim / settled},
               {"psnr", psnr / settled},
               {"flicker", flicker / (kStillAfter - 1)},
               {"ssim_after_cut", curve}};
  }
  return {{"n", images.size(0)},
          {"frames_before", kStillBefore},
          {"frames_after", kStillAfter},
          {"settled_from", kStillSettled},
          {"decoders", r}};
}

std::vector<std::string> table_order(const DecoderList& decoders) {
  std::vector<std::string> names{"mean"};
  for (const auto& [name, d] : decoders) names.push_back(name);
  return names;
}

// A column at least 12 wide, and one wider than a long decoder name (--add).
int column_width(const std::string& name) {
  return std::max(12, static_cast<int>(name.size()) + 2);
}

void print_table(const nlohmann::json& views, const std::vector<std::string>& names) {
  const std::vector<std::pair<std::string, std::string>> columns = {
      {"patches", "test patches"}, {"whole", "whole images"}, {"clips", "clips (mean)"}};
  int first = 16;  // the decoder column, wider than the longest name
  for (const auto& name : names) first = std::max(first, static_cast<int>(name.size()) + 2);
  std::cout << std::left << std::setw(first) << "decoder" << std::right;
  for (const auto& [key, title] : columns)
    if (views.contains(key)) std::cout << std::setw(26) << title + " SSIM / PSNR";
  std::cout << "\n";
  for (const auto& name : names) {
    std::cout << std::left << std::setw(first) << name << std::right << std::fixed;
    for (const auto& [key, title] : columns) {
      if (!views.contains(key)) continue;
      const auto& r = views[key]["decoders"][name];
      std::ostringstream cell;
      cell << std::fixed << std::setprecision(4) << r["ssim"].get<double>() << " / "
           << std::setprecision(2) << r["psnr"].get<double>();
      std::cout << std::setw(26) << cell.str();
    }
    std::cout << "\n";
  }
  if (views.contains("patches") && views["patches"].contains("ssim_by_scale")) {
    std::cout << "test patches by scale (window over the photo's short side), SSIM:\n"
              << std::left << std::setw(16) << "scale" << std::right;
    for (const auto& name : names)
      if (name != "mean") std::cout << std::setw(column_width(name)) << name;
    std::cout << std::setw(8) << "n"
              << "\n";
    for (const auto& [band, r] : views["patches"]["ssim_by_scale"].items()) {
      std::cout << std::left << std::setw(16) << band << std::right;
      for (const auto& name : names)
        if (name != "mean")
          std::cout << std::setw(column_width(name)) << std::setprecision(4)
                    << r["ssim"][name].get<double>();
      std::cout << std::setw(8) << r["n"].get<int>() << "\n";
    }
  }
  if (views.contains("stills")) {
    const auto& st = views["stills"];
    std::cout << "held still (" << st["n"].get<int64_t>() << " images, " << kStillAfter
              << " frames after a cut from another image):\n"
              << std::left << std::setw(first) << "decoder" << std::right << std::setw(12)
              << "SSIM cut+0" << std::setw(12) << "cut+4" << std::setw(16) << "SSIM from +10"
              << std::setw(12) << "flicker"
              << "\n";
    for (const auto& name : names) {
      const auto& r = st["decoders"][name];
      std::cout << std::left << std::setw(first) << name << std::right << std::setprecision(4);
      if (r.contains("ssim_after_cut"))
        std::cout << std::setw(12) << r["ssim_after_cut"][0].get<double>() << std::setw(12)
                  << r["ssim_after_cut"][4].get<double>();
      else
        std::cout << std::setw(12) << "-" << std::setw(12) << "-";
      std::cout << std::setw(16) << r["ssim"].get<double>() << std::setw(12)
                << r["flicker"].get<double>() << "\n";
    }
  }
  if (!views.contains("clips")) return;
  std::cout << "per clip (SSIM):\n" << std::left << std::setw(36) << "clip" << std::right;
  for (const auto& name : names) std::cout << std::setw(column_width(name)) << name;
  std::cout << "\n";
  for (const auto& [clip, r] : views["clips"]["per_clip"].items()) {
    std::cout << std::left << std::setw(36) << clip.substr(0, 35) << std::right;
    for (const auto& name : names)
      std::cout << std::setw(column_width(name)) << std::setprecision(4)
                << r["decoders"][name]["ssim"].get<double>();
    std::cout << "\n";
  }
}

void run_eval(EvalArgs& a) {
  const torch::Device device(resolve_device(a.common));
  if (!a.cut_plot.empty()) a.stills = true;
  if (a.stills && a.data.empty() && a.images_dir.empty())
    throw UsageError("eval --stills: give --data or --images (the still images)");
  if (a.data.empty() == a.images_dir.empty() && a.clips.empty())
    throw UsageError("eval: give --data, or --images and/or --clips");
  if (!a.data.empty() && !a.images_dir.empty())
    throw UsageError("eval: give either --data or --images, not both");
  if (const auto problem = settings_problem(parse_device(device.is_cuda() ? "cuda" : "cpu"),
                                            parse_precision_setting(a.precision), false);
      !problem.empty())
    throw UsageError(problem);
  {  // the reports must not be written over an input
    std::vector<std::string> inputs{a.data, a.images_dir, a.clips, a.encoder, a.sid, a.linear};
    for (const auto& spec : a.more) inputs.push_back(spec.substr(spec.find('=') + 1));
    check_outputs({a.json_path, a.grid_path, a.cut_plot}, inputs);
  }
  auto encoder = load_encoder(a.encoder, device);
  auto decoders = load_decoders(a, encoder->info(), device);
  if (a.precision == "bfloat16")
    encoder->set_precision(torch::kBFloat16);  // float16: decoders only

  nlohmann::json views = nlohmann::json::object(), source;
  torch::Tensor first;  // the first view's images, for --grid, --save and --count
  double flat = 0;
#ifdef SPIKEVID_HAVE_IO
  std::vector<std::pair<std::string, std::vector<GrayImage>>> clips;
#endif
  if (!a.data.empty()) {
    DatasetOptions o;
    o.device = device;
    const auto data = Dataset::load(a.data, o);
    std::mt19937_64 rng(1);
    flat = data.train_epoch(4096, rng).mean().item<double>();  // the training set's mean luminance
    first = a.split == "val" ? data.val() : data.test();
    if (a.count > 0 && a.count < first.size(0)) first = first.narrow(0, 0, a.count);
    nlohmann::json by_scale = nlohmann::json::object();
    const bool all_test = a.split == "test" && first.size(0) == data.test().size(0);
    views["patches"] = {
        {"n", first.size(0)},
        {"decoders", score_images(*encoder, decoders, first, flat, a.seed,
                                  all_test ? &data.test_scales() : nullptr, &by_scale)}};
    if (!by_scale.empty()) views["patches"]["ssim_by_scale"] = by_scale;
    if (a.split == "test" && data.test_whole().defined()) {
      auto whole = data.test_whole();
      views["whole"] = {{"n", whole.size(0)},
                        {"decoders", score_images(*encoder, decoders, whole, flat, a.seed)}};
    }
    if (a.stills && a.split == "test" && data.test_whole().defined())
      views["stills"] = score_stills(*encoder, decoders, data.test_whole(), flat, a.seed);
#ifdef SPIKEVID_HAVE_IO
    if (a.split == "test")
      for (const auto& [name, frames] : data.test_clips()) clips.emplace_back(name, frames);
#endif
    source = {{"data", data.describe()}, {"split", a.split}};
  }
#ifdef SPIKEVID_HAVE_IO
  if (!a.images_dir.empty()) {
    first = load_eval_images(a.images_dir).to(device);
    if (a.count > 0 && a.count < first.size(0)) first = first.narrow(0, 0, a.count);
    flat = first.mean().item<double>();
    views["whole"] = {{"n", first.size(0)},
                      {"decoders", score_images(*encoder, decoders, first, flat, a.seed)}};
    if (a.stills) views["stills"] = score_stills(*encoder, decoders, first, flat, a.seed);
    source["images"] = a.images_dir;
  }
  if (!a.clips.empty()) {
    auto folder = read_clip_folder(a.clips);
    for (const auto& problem : folder.skipped)
      std::cerr << "eval: warning: " << problem << ", skipped\n";
    if (folder.clips.empty()) throw std::runtime_error(a.clips + ": no clip could be read");
    if (a.data.empty() && a.images_dir.empty()) flat = 0.5;  // no training set to take it from
    clips = std::move(folder.clips);
    source["clips"] = a.clips;
  }
  if (!clips.empty()) {
    TileGrid grid;
    try {
      grid = parse_tile_grid(a.tiles);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    views["clips"] = score_clips(*encoder, decoders, clips, grid, flat, device, a);
  }
#else
  if (!a.images_dir.empty() || !a.clips.empty())
    throw UsageError("eval --images/--clips need a build with OpenCV");
#endif
  const auto names = table_order(decoders);
  std::cout << "spikevid eval: encoder " << encoder->info().id << " (" << encoder->info().n_cells
            << " cells)";
  for (const auto& [key, v] : views.items())
    if (key != "stills")
      std::cout << "; " << key << ": "
                << (key == "clips" ? v["per_clip"].size() : v["n"].get<size_t>())
                << (key == "clips" ? " clips" : " images");
  std::cout << "\n";
  print_table(views, names);
  if (!a.json_path.empty()) {
    // "decoders": the first view's scores (the test patches with --data), as before views.
    const char* main_view = views.contains("patches") ? "patches"
                            : views.contains("whole") ? "whole"
                                                      : "clips";
    nlohmann::json j = {{"decoders", views[main_view]["decoders"]},
                        {"n", first.defined() ? first.size(0) : 0},
                        {"views", views},
                        {"seed", a.seed},
                        {"source", source},
                        {"encoder", {{"id", encoder->info().id}, {"path", a.encoder}}},
                        {"precision", a.precision},
                        {"command", command_line()}};
    for (auto& [name, dec] : decoders) j["decoder_files"][name] = dec->info().path;
    write_output_file(a.json_path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
  }
#ifdef SPIKEVID_HAVE_IO
  if (!a.cut_plot.empty() && views.contains("stills")) {
    std::vector<std::pair<std::string, std::vector<double>>> curves;
    for (const auto& name : names)
      if (views["stills"]["decoders"][name].contains("ssim_after_cut"))
        curves.emplace_back(
            name, views["stills"]["decoders"][name]["ssim_after_cut"].get<std::vector<double>>());
    write_curves_plot(a.cut_plot,
                      "SSIM after a cut to a still image (" +
                          std::to_string(views["stills"]["n"].get<int64_t>()) + " images)",
                      "frames since the cut", "SSIM", curves);
  }
  if ((!a.grid_path.empty() || !a.save_dir.empty()) && first.defined()) {
    torch::manual_seed(a.seed);
    const int64_t m = a.save_dir.empty() ? std::min<int64_t>(first.size(0), 8) : first.size(0);
    auto x = first.narrow(0, 0, m);
    auto counts = encoder->spikes(x);
    std::vector<std::pair<std::string, torch::Tensor>> columns;
    for (auto& [name, dec] : decoders) columns.emplace_back(name, dec->decode(counts));
    if (!a.grid_path.empty()) write_eval_grid(a.grid_path, x, counts, encoder->info(), columns, 8);
    if (!a.save_dir.empty()) save_eval_pngs(a.save_dir, x, columns);
  }
#else
  if (!a.grid_path.empty() || !a.save_dir.empty() || !a.cut_plot.empty())
    throw UsageError("eval --grid/--save/--cut-plot need a build with OpenCV");
#endif
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* e = app.add_subcommand(
      "eval",
      "Score decoders (MSE, PSNR, SSIM) against the flat mean image: test patches, whole images, "
      "clips through tiles");
  e->option_defaults()->always_capture_default();
  e->footer(
      "Examples:\n"
      "  spikevid eval --data data/packs/scenes.pack --json out/eval.json   (all three views)\n"
      "  spikevid eval --data data/packs/natural.pack --grid out/grid.png\n"
      "  spikevid eval --images my_photos/ --clips my_clips/ --save out/recon\n"
      "  spikevid eval --data data/packs/scenes.pack --add paper=models/weights/sid-natural.svm\n"
      "  spikevid eval --data data/packs/mnist.pack --sid models/weights/sid-mnist.svm --linear "
      "none");
  e->add_option("--data", a->data,
                "packed data file: its test patches, whole views of its test photos and its "
                "test clips")
      ->check(CLI::ExistingFile);
  e->add_option("--images", a->images_dir, "a folder of images: one centred whole-image view each")
      ->check(CLI::ExistingDirectory);
  e->add_option("--clips", a->clips,
                "a folder of clips (video files or folders of frames), or one video file")
      ->check(CLI::ExistingPath);
  e->add_option("--tiles", a->tiles, "the clips' tile grid, ROWSxCOLS");
  e->add_option("--clip-frames", a->clip_frames, "score at most this many frames per clip (0: all)")
      ->check(CLI::Range(0, 1 << 24));
  e->add_option("--split", a->split, "split of --data")->check(CLI::IsMember({"test", "val"}));
  e->add_option("--encoder", a->encoder, "encoder model file, TorchScript .pt, or 'retina'");
  e->add_option("--sid", a->sid, "the learned decoder to score ('none' to skip)");
  e->add_option("--linear", a->linear, "linear decoder file ('none' to skip)");
  e->add_option("--add", a->more, "more decoders to score beside them, NAME=FILE (repeatable)");
  e->add_option("--json", a->json_path, "write the scores as JSON");
  e->add_flag("--stills", a->stills,
              "also the held-still view: each test image for 60 frames after 30 of another, "
              "SSIM after the cut and flicker (what temporal decoders change)");
  e->add_option("--cut-plot", a->cut_plot,
                "write a PNG of SSIM against frames since the cut (implies --stills)");
  e->add_option("--grid", a->grid_path, "write a PNG grid: input, spikes, each decoder");
  e->add_option("--save", a->save_dir,
                "write NNNN_input.png and NNNN_<decoder>.png (16-bit) for the first view");
  e->add_option("--count", a->count, "score only the first N patches or images")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  e->add_option("--seed", a->seed, "spike seed")->check(CLI::NonNegativeNumber);
  e->add_option("--precision", a->precision,
                "float32; bfloat16 (the encoder's and decoders' arithmetic); float16 (CUDA: the "
                "decoders)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  add_common_options(*e, a->common);
  e->callback([a] { run_eval(*a); });
}

}  // namespace spikevid::cli
