#pragma once
// An output file that never costs the user data (DESIGN, "Outputs never lose data"):
//   - refused, before anything is written, when it is the same file as one of
//     the run's inputs (same device and inode, so paths through links count)
//     or when its folder does not exist;
//   - an exclusive lock on its name for the whole run: a second process
//     writing the same output gets a one-line error, never a damaged file;
//   - written under a temporary name beside it, NAME.part-PID, and renamed
//     into place by commit() (at the end, on an error, on Ctrl-C). After a
//     SIGKILL the .part file stays, readable as far as it was written.
//   - discard() removes the .part file, so a run that wrote nothing leaves an
//     older file of that name as it was.
#include <string>
#include <vector>

namespace spikevid {

class OutputFile {
 public:
  // Throws std::runtime_error ("PATH: problem") on each case above.
  // Thread-safe: no. Blocks: no (the lock is tried, not waited for).
  OutputFile(std::string path, const std::vector<std::string>& inputs);
  // Neither committed nor discarded (a crash): the .part file stays; the lock goes.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& part_path() const { return part_; }  // where to write

  // Renames the .part file into place (replacing an older file) and releases
  // the lock. Throws std::runtime_error if the rename fails. Idempotent.
  void commit();
  // Removes the .part file and releases the lock. Never throws. Idempotent.
  void discard();

 private:
  void unlock();
  std::string path_, part_, lock_path_;
  int lock_fd_ = -1;
  bool done_ = false;
};

// Throws std::runtime_error when two of `outputs` (non-empty ones) name the
// same file, or one of them is the same file as one of `inputs`.
void check_outputs(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs);

}  // namespace spikevid
