#pragma once
// What every subcommand shares: errors with exit codes, the device and thread
// options, Ctrl-C, and the command line that made an output.
#include <atomic>
#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

namespace spikevid::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;        // bad input, failed run
constexpr int kExitUsage = 2;          // bad command line
constexpr int kExitInterrupted = 130;  // Ctrl-C; in general 128 + the signal (SIGTERM: 143)

// A bad option value found after parsing: exits with kExitUsage.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --threads auto (0): the command decides. Training and evaluation use every
// core; the line splits them across its model stages (stages/line.h, ThreadPlan).
struct CommonOptions {
  std::string device = "auto";
  int threads = 0;  // 0: auto
};
// For options that take "auto" or a number: "auto" becomes 0.
inline std::string auto_as_zero(std::string value) { return value == "auto" ? "0" : value; }
// For counts that take "auto" but not 0 (--batch): checked before auto_as_zero.
inline std::string not_zero(const std::string& value) {
  return value == "0" ? std::string("must be at least 1, or auto") : std::string();
}
void add_common_options(CLI::App& app, CommonOptions& options);
// Applies threads; returns "cpu" or "cuda" (throws UsageError on bad names,
// std::runtime_error when CUDA is asked for and absent).
std::string resolve_device(const CommonOptions& options);

// Set by SIGINT/SIGTERM; a second signal exits at once.
bool stop_requested();
int stop_signal();  // the first signal received (0: none)
// The same, as the flag a Pipeline polls (PipelineConfig::stop_flag).
const std::atomic<bool>& stop_flag();
void install_signal_handlers();

// Writes a report file through fn; throws std::runtime_error ("PATH: ...")
// if it cannot be opened or written.
void write_output_file(const std::string& path, const std::function<void(std::ostream&)>& fn);

// The command line as typed, for the metadata of what it writes.
const std::string& command_line();
void set_command_line(int argc, char** argv);

// Each file registers its subcommands.
void add_train_commands(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_check_precision_command(CLI::App& app);
void add_set_filter_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_export_commands(CLI::App& app);
void add_pack_command(CLI::App& app);       // not in LibTorch-only builds
void add_synthetic_command(CLI::App& app);  // needs the engine (Boost)
void add_video_commands(CLI::App& app);     // live, transcode, encode, decode (GStreamer)
void add_bench_command(CLI::App& app);      // spikevid bench

}  // namespace spikevid::cli
