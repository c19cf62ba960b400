#pragma once
// Precompiled once per target that uses it (see CMakeLists.txt): LibTorch's
// headers cost ~20 s and 1.2 GB a file otherwise.
#include <torch/torch.h>
#include <nlohmann/json.hpp>
