// spikevid pack-data: data sets into one packed file a training machine can carry.
#include <filesystem>
#include <iostream>

#include "io/idx.h"
#include "io/mnist_json.h"
#include "io/pack_file.h"
#include "io/scenes_pack.h"
#include "io/splits.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {
namespace fs = std::filesystem;

struct PackArgs {
  std::string set, from, out;
  int long_side = 1024;
  int n_val = -1, n_test = -1;  // -1: the set's default
  int max_train = 30000;
  std::uint64_t seed = 1;
  ScenesPackOptions scenes;
  bool no_flips = false;
};

// A warning a line per file that could not be read, and how many in all.
void warn_skipped(const std::vector<std::string>& skipped) {
  for (const auto& problem : skipped)
    std::cerr << "pack-data: warning: " << problem << ", skipped\n";
  if (!skipped.empty()) std::cerr << "pack-data: skipped " << skipped.size() << " files\n";
}

Pack pack_natural(const PackArgs& a) {
  Pack p{"photos", "natural", command_line(), {}};
  std::vector<std::string> skipped;
  add_folder_photos(p, a.from.empty() ? "data/natural" : a.from,
                    {a.n_val < 0 ? 4 : a.n_val, a.n_test < 0 ? 6 : a.n_test}, a.seed, a.long_side,
                    {}, skipped);
  warn_skipped(skipped);
  return p;
}

Pack pack_scenes(PackArgs& a) {
  auto& o = a.scenes;
  if (!a.from.empty()) o.natural_dir = a.from;
  o.long_side = a.long_side;
  o.seed = a.seed;
  o.created_by = command_line();
  o.views.flips = !a.no_flips;
  if (a.n_val >= 0 || a.n_test >= 0)
    throw UsageError("pack-data scenes: use --val-share, --test-share, --clip-val, --clip-test");
  std::vector<std::string> skipped;
  try {
    auto p = make_scenes_pack(o, skipped);
    warn_skipped(skipped);
    return p;
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("pack-data scenes: ") + e.what());
  }
}

Pack pack_mnist(const PackArgs& a) {
  const fs::path dir = a.from.empty() ? "data/mnist" : a.from;
  Pack p{"images", "mnist", command_line(), {}};
  std::vector<std::string> sources;
  for (int d = 0; d < 10; ++d) {
    const auto file = dir / (std::to_string(d) + ".json");
    const auto digits = read_mnist_json(file.string());
    for (std::size_t i = 0; i < digits.size(); ++i) {
      sources.push_back(std::to_string(d) + ".json#" + std::to_string(i));
      p.images.push_back({sources.back(), digits[i].label, "", digits[i].image});
    }
  }
  const auto splits =
      assign_splits(sources, a.n_val < 0 ? 1000 : a.n_val, a.n_test < 0 ? 1000 : a.n_test, a.seed);
  for (std::size_t i = 0; i < splits.size(); ++i) p.images[i].split = splits[i];
  return p;
}

Pack pack_fashion(const PackArgs& a) {
  const fs::path dir = a.from.empty() ? "data/fashion-mnist" : a.from;
  Pack p{"images", "fashion-mnist", command_line(), {}};
  const auto train = read_idx_dataset((dir / "train-images-idx3-ubyte.gz").string(),
                                      (dir / "train-labels-idx1-ubyte.gz").string());
  const auto test = read_idx_dataset((dir / "t10k-images-idx3-ubyte.gz").string(),
                                     (dir / "t10k-labels-idx1-ubyte.gz").string());
  // The official split for test; validation from the training file. A subset of
  // the training file keeps the pack under the 60 MB a GPU machine can carry.
  const int n_val = a.n_val < 0 ? 5000 : a.n_val;
  const std::size_t n_train =
      std::min<std::size_t>(train.size(), static_cast<std::size_t>(a.max_train + n_val));
  for (std::size_t i = 0; i < n_train; ++i)
    p.images.push_back({"train#" + std::to_string(i), train[i].label,
                        i < static_cast<std::size_t>(n_val) ? "val" : "train", train[i].image});
  const std::size_t n_test =
      a.n_test < 0 ? test.size() : std::min<std::size_t>(test.size(), a.n_test);
  for (std::size_t i = 0; i < n_test; ++i)
    p.images.push_back({"t10k#" + std::to_string(i), test[i].label, "test", test[i].image});
  return p;
}

void run_pack(PackArgs& a) {
  const auto parent = fs::path(a.out).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  Pack p = a.set == "natural"  ? pack_natural(a)
           : a.set == "scenes" ? pack_scenes(a)
           : a.set == "mnist"  ? pack_mnist(a)
                               : pack_fashion(a);
  if (p.images.empty())
    throw std::runtime_error(a.out + ": nothing to pack: no image could be read");
  write_pack(a.out, p);
  std::cout << "pack-data: wrote " << a.out << " (" << p.name << ": " << describe_pack_counts(p)
            << "; " << fs::file_size(a.out) / 1e6 << " MB)\n";
}

}  // namespace

void add_pack_command(CLI::App& app) {
  auto a = std::make_shared<PackArgs>();
  auto* c = app.add_subcommand("pack-data",
                               "Pack a data set (split by source file) into one file for training");
  c->option_defaults()->always_capture_default();
  c->footer(
      "Examples (after tools/fetch-data):\n"
      "  spikevid pack-data natural -o data/packs/natural.pack\n"
      "  spikevid pack-data scenes -o data/packs/scenes.pack\n"
      "  spikevid pack-data mnist -o data/packs/mnist.pack\n"
      "  spikevid pack-data fashion-mnist -o data/packs/fashion-mnist.pack");
  c->add_option("set", a->set,
                "natural (today's 48 photos), scenes (those, the extra photos and the real "
                "clips, with a view mix), mnist or fashion-mnist")
      ->required()
      ->check(CLI::IsMember({"natural", "scenes", "mnist", "fashion-mnist"}));
  c->add_option("-o,--out", a->out, "pack file to write")->required();
  c->add_option("--from", a->from, "source folder (default: the set's folder under data/)");
  c->add_option("--long-side", a->long_side, "natural: shrink photos to this long side")
      ->check(CLI::Range(64, 16384));
  c->add_option("--val", a->n_val,
                "validation sources (default: natural 4, mnist 1000, fashion 5000)");
  c->add_option("--test", a->n_test,
                "test sources (default: natural 6, mnist 1000, fashion all 10000)");
  c->add_option("--max-train", a->max_train, "fashion-mnist: training images kept")
      ->check(CLI::Range(1, 60000));
  c->add_option("--seed", a->seed, "split seed")->check(CLI::NonNegativeNumber);
  c->add_option("--photos", a->scenes.photos_dir, "scenes: the extra photos (split by .groups)")
      ->check(CLI::ExistingDirectory);
  c->add_option("--clips", a->scenes.clips_dir,
                "scenes: the clips (video files or folders of frames)")
      ->check(CLI::ExistingDirectory);
  c->add_option("--val-share", a->scenes.val_share,
                "scenes: share of the extra photos' groups in validation")
      ->check(CLI::Range(0.0, 0.5));
  c->add_option("--test-share", a->scenes.test_share,
                "scenes: share of the extra photos' groups in test")
      ->check(CLI::Range(0.0, 0.5));
  c->add_option("--clip-val", a->scenes.clip_val, "scenes: clips in validation")
      ->check(CLI::Range(0, 1000));
  c->add_option("--clip-test", a->scenes.clip_test, "scenes: clips in test")
      ->check(CLI::Range(0, 1000));
  c->add_option("--whole", a->scenes.views.whole,
                "scenes: share of training views that are whole images (short side to 64)")
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--video", a->scenes.views.video,
                "scenes: share of training views cut from clip frames")
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--finest", a->scenes.views.finest,
                "scenes: the smallest patch, as a fraction of the long side")
      ->check(CLI::Range(0.01, 1.0));
  c->add_option(
       "--coarsest", a->scenes.views.coarsest,
       "scenes: the largest patch, as a fraction of the long side (1: the whole short side)")
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--brightness", a->scenes.views.brightness,
                "scenes: brightness jitter, +- this (0..0.5)")
      ->check(CLI::Range(0.0, 0.5));
  c->add_option("--contrast", a->scenes.views.contrast,
                "scenes: contrast jitter, a gain in 1 +- this")
      ->check(CLI::Range(0.0, 0.95));
  c->add_flag("--no-flips", a->no_flips, "scenes: no left-right mirroring");
  c->callback([a] { run_pack(*a); });
}

}  // namespace spikevid::cli
