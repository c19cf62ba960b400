#include "io/output_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file_util.h"

namespace spikevid {
namespace fs = std::filesystem;

namespace {

// Whether a and b are one existing file (links followed).
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Two names of one file-to-be: the same once made absolute and normal (the
// output need not exist yet, so inodes cannot tell).
bool same_name(const std::string& a, const std::string& b) {
  std::error_code ec;
  const auto na = fs::weakly_canonical(fs::absolute(a), ec);
  const auto nb = fs::weakly_canonical(fs::absolute(b), ec);
  return na == nb || same_file(a, b);
}

}  // namespace

void check_outputs(const std::vector<std::string>& outputs,
                   const std::vector<std::string>& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].empty()) continue;
    for (const auto& in : inputs)
      if (!in.empty() && same_file(outputs[i], in))
        throw_file_error(outputs[i], "is the input " + in +
                                         "; writing it would destroy the input (choose another "
                                         "output name)");
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (!outputs[j].empty() && same_name(outputs[i], outputs[j]))
        throw_file_error(outputs[i], "is named for two outputs of this run");
  }
}

OutputFile::OutputFile(std::string path, const std::vector<std::string>& inputs)
    : path_(std::move(path)) {
  check_outputs({path_}, inputs);
  const fs::path p(path_);
  const auto dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw_file_error(path_, "folder " + dir.string() + " does not exist");
  if (fs::is_directory(p, ec)) throw_file_error(path_, "is a folder");
  lock_path_ = (dir / ("." + p.filename().string() + ".lock")).string();
  // flock on a lock file beside the output. The holder removes it when done,
  // so a process that locked a file another one had just removed must try again.
  for (int attempt = 0; attempt < 16 && lock_fd_ < 0; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw_file_error(
          path_, std::string("cannot create a lock file beside it (") + std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK)
        throw_file_error(path_, "another process is writing it (its lock " + lock_path_ +
                                    " is held); wait for it or choose another output name");
      throw_file_error(path_, std::string("cannot lock it (") + std::strerror(e) + ")");
    }
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      lock_fd_ = fd;
    } else {
      ::close(fd);
    }
  }
  if (lock_fd_ < 0) throw_file_error(path_, "cannot lock it (its lock file keeps changing)");
  part_ = path_ + ".part-" + std::to_string(::getpid());
}

OutputFile::~OutputFile() { unlock(); }

void OutputFile::unlock() {
  if (lock_fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding it: see the constructor
  ::close(lock_fd_);
  lock_fd_ = -1;
}

void OutputFile::commit() {
  if (done_) return;
  done_ = true;
  if (std::rename(part_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    unlock();
    throw_file_error(path_, "cannot rename " + part_ + " into place (" + std::strerror(e) +
                                "); the output is kept there");
  }
  unlock();
}

void OutputFile::discard() {
  if (done_) return;
  done_ = true;
  std::remove(part_.c_str());
  unlock();
}

}  // namespace spikevid
