#pragma once
// The "scenes" data set: photographs and real camera clips for decoders that
// must hold up on footage nobody trained on. Split by source, never by view:
//   - today's natural photos keep the split of the "natural" pack (so its test
//     photos stay unseen by anything trained on scenes);
//   - the extra photos are split by group (FOLDER/.groups names near-duplicate
//     photos that must share a split);
//   - clips (video files or folders of frames) are split whole, by group too
//     (FOLDER/.groups: clips of one scene or set-up).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/pack_file.h"

namespace spikevid {

struct ScenesPackOptions {
  std::string natural_dir = "data/natural", photos_dir = "data/photos", clips_dir = "data/clips";
  int long_side = 1024;                        // photos and frames are shrunk to this long side
  int natural_val = 4, natural_test = 6;       // as the natural pack
  double val_share = 0.08, test_share = 0.18;  // of the extra photos' groups (rounded up)
  int clip_val = 2, clip_test = 4;             // clip groups
  ViewMix views{0.35, 0.25, 0.05, 1.0, true, 0.1, 0.3, true};
  std::uint64_t seed = 1;
  std::string created_by;
};

// How many of a folder's groups go to validation and test: a count, or (when
// the share is ≥ 0) that share of the groups, rounded up.
struct SplitSizes {
  int val = 0, test = 0;
  double val_share = -1, test_share = -1;
};

// Adds the photos of `folder` to `pack`, split by group (a photo not in
// `groups` is its own group). Files that cannot be decoded are skipped and
// named in `skipped` ("PATH: problem").
void add_folder_photos(Pack& pack, const std::string& folder, const SplitSizes& sizes,
                       std::uint64_t seed, int long_side,
                       const std::map<std::string, std::string>& groups,
                       std::vector<std::string>& skipped);

// FOLDER/.groups: "NAME<TAB>GROUP" lines naming the photos or clips that must
// share a split; empty when the file does not exist.
// Throws std::runtime_error ("PATH: line N ...") on a malformed line.
std::map<std::string, std::string> read_split_groups(const std::string& folder);

// The whole pack, views recorded. Throws std::runtime_error when a folder is
// missing, std::invalid_argument when the splits ask for more sources than there are.
Pack make_scenes_pack(const ScenesPackOptions& options, std::vector<std::string>& skipped);

}  // namespace spikevid
