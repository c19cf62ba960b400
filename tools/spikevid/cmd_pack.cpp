// spikevid pack-data: data sets into one packed file a training machine can carry.
#include <filesystem>
#include <iostream>
#include <map>

#include "io/crop_resize.h"
#include "io/idx.h"
#include "io/image_folder.h"
#include "io/mnist_json.h"
#include "io/pack_file.h"
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
};

Pack pack_natural(const PackArgs& a) {
  const auto folder = read_image_folder(a.from.empty() ? "data/natural" : a.from);
  Pack p{"photos", "natural", command_line(), {}};
  std::vector<std::string> names;
  for (const auto& n : folder.images) names.push_back(n.name);
  const auto splits =
      assign_splits(names, a.n_val < 0 ? 4 : a.n_val, a.n_test < 0 ? 6 : a.n_test, a.seed);
  for (std::size_t i = 0; i < names.size(); ++i)
    p.images.push_back(
        {names[i], -1, splits[i], resize_long_side(folder.images[i].image, a.long_side)});
  if (!folder.skipped.empty())
    std::cerr << "pack-data: skipped " << folder.skipped.size() << " files OpenCV cannot read\n";
  return p;
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

void run_pack(const PackArgs& a) {
  const auto parent = fs::path(a.out).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  Pack p = a.set == "natural" ? pack_natural(a)
           : a.set == "mnist" ? pack_mnist(a)
                              : pack_fashion(a);
  write_pack(a.out, p);
  std::map<std::string, int> counts;
  for (const auto& im : p.images) counts[im.split]++;
  std::cout << "pack-data: wrote " << a.out << " (" << p.name << ", " << p.images.size()
            << " images: " << counts["train"] << " train, " << counts["val"] << " val, "
            << counts["test"] << " test; " << fs::file_size(a.out) / 1e6 << " MB)\n";
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
      "  spikevid pack-data mnist -o data/packs/mnist.pack\n"
      "  spikevid pack-data fashion-mnist -o data/packs/fashion-mnist.pack");
  c->add_option("set", a->set, "natural, mnist or fashion-mnist")
      ->required()
      ->check(CLI::IsMember({"natural", "mnist", "fashion-mnist"}));
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
  c->callback([a] { run_pack(*a); });
}

}  // namespace spikevid::cli
