// spikevid: video to retinal spikes and back (Zhang et al. 2020, SID).
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <torch/cuda.h>
#include <torch/utils.h>

#include "io/output_file.h"
#include "models/cpu_allocator.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {

std::atomic<int> g_signals{0};
std::atomic<int> g_first_signal{0};
std::atomic<bool> g_stop{false};
std::string g_command_line;

extern "C" void on_signal(int sig) {
  // Only a flag: the pipeline and the training loop poll it. A second signal
  // means "now": restore the default action and re-raise.
  g_stop.store(true);
  int none = 0;
  g_first_signal.compare_exchange_strong(none, sig);
  if (g_signals.fetch_add(1) > 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

bool stop_requested() { return g_signals.load() > 0; }
int stop_signal() { return g_first_signal.load(); }
const std::atomic<bool>& stop_flag() { return g_stop; }

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

void write_output_file(const std::string& path, const std::function<void(std::ostream&)>& fn) {
  spikevid::OutputFile file(path, {});  // a .part file renamed into place, one writer
  {
    std::ofstream out(file.part_path());
    if (!out) throw std::runtime_error(path + ": cannot open for writing");
    fn(out);
    out.flush();
    if (!out) {
      file.discard();
      throw std::runtime_error(path + ": write failed (disk full?)");
    }
  }
  file.commit();
}

const std::string& command_line() { return g_command_line; }

void set_command_line(int argc, char** argv) {
  std::ostringstream s;
  s << "spikevid";
  for (int i = 1; i < argc; ++i) s << ' ' << argv[i];
  g_command_line = s.str();
}

void add_common_options(CLI::App& app, CommonOptions& o) {
  app.add_option("--device", o.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", o.threads,
                 "LibTorch threads; auto: every core to training and evaluation, the video "
                 "commands' cores split across their model stages by measured cost")
      ->transform(auto_as_zero)
      ->check(CLI::Range(0, 1024))
      ->default_str("auto");
}

std::string resolve_device(const CommonOptions& o) {
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);  // the default here is 1
  const bool cuda = torch::cuda::is_available();
  if (o.device == "cuda" && !cuda)
    throw std::runtime_error(
        "--device cuda: no CUDA device (or this build's LibTorch has no CUDA); use --device cpu");
  if (o.device == "cuda" || (o.device == "auto" && cuda)) return "cuda";
  return "cpu";
}

}  // namespace spikevid::cli

int main(int argc, char** argv) {
  using namespace spikevid::cli;
  spikevid::keep_freed_cpu_memory();  // models/cpu_allocator.h: 2-3x on this VM
  set_command_line(argc, argv);
  CLI::App app{
      "spikevid: video to the spikes of a simulated retina and back (Zhang et al. 2020, SID)",
      "spikevid"};
  app.require_subcommand(1);
  add_train_commands(app);
  add_eval_command(app);
  add_info_command(app);
  add_export_commands(app);
  add_check_precision_command(app);
  add_set_filter_command(app);
  add_pack_command(app);
  add_synthetic_command(app);
  add_video_commands(app);
  add_bench_command(app);
  install_signal_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "spikevid: " << e.what() << " (see spikevid --help)\n";
    return kExitUsage;
  } catch (const UsageError& e) {
    std::cerr << "spikevid: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos)
      msg.resize(nl);  // torch appends stack traces
    std::cerr << "spikevid: " << msg << "\n";
    // A wait that Ctrl-C ended (a receiver before its stream came) is a stop.
    return stop_requested() ? 128 + stop_signal() : kExitRuntime;
  }
  // The shell's convention: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM).
  return stop_requested() ? 128 + stop_signal() : kExitOk;
}
