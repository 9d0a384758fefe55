// Small whole-file helpers over POSIX calls, returning Status instead of
// throwing. Thread-safe: no shared state.

#ifndef AGENT_BASE_FILE_H_
#define AGENT_BASE_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::base {

// Owns a file descriptor: closes it when destroyed. Moves, never copies.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Reads the open file `fd` to its end, handing each piece to `each`; errors
// name `what`.
Status ReadFd(int fd, std::string_view what, const std::function<Status(std::string_view)>& each);
// The same into one string, refusing more than `max_bytes`.
Result<std::string> ReadFd(int fd, std::string_view what, uint64_t max_bytes);

// Writes all of `data` to `fd` (at its offset, or at `at`: pwrite),
// retrying short writes and EINTR. Errors name `what`.
Status WriteAll(int fd, std::string_view data, std::string_view what);
Status WriteAllAt(int fd, std::string_view data, uint64_t at, std::string_view what);
// Reads up to `size` bytes at offset `at` into `buf`, fewer only at the end
// of the file. Errors name `what`.
Result<size_t> ReadFullAt(int fd, char* buf, size_t size, uint64_t at, std::string_view what);

// `path` itself, or the nearest directory above it that exists (an absolute
// path): where a directory that is to be made would be made. An error other
// than a missing name on the way is an error, naming the path.
Result<std::string> NearestExisting(const std::string& path);

// Whether `path` can be a directory a program keeps its state in: absolute,
// normalized, and either an existing directory or one that can be made (the
// nearest directory above it that exists is a directory), on a real
// filesystem, not a kernel pseudo-filesystem (proc, sysfs, devtmpfs under
// /dev, cgroup, debugfs). Looks, never creates. The message names the path.
Status CheckStateDirectory(const std::string& path);

// syncfs(2) of the filesystem holding `fd`: everything written to it is
// durable once this returns ok. Errors name `what`.
Status SyncFilesystem(int fd, std::string_view what);

// Takes an exclusive flock(2) of `fd` without waiting. kUnavailable when
// another open of the same file holds it: another process, or another open
// in this one. The kernel releases it when the last descriptor of this open
// closes, however the process ends. `what` names the file in errors.
Status TryLock(int fd, std::string_view what);

// Opens `path` (made 0600 when absent; closed on exec) and takes its lock
// as TryLock does.
Result<UniqueFd> TryLockFile(const std::string& path);

// Reads the whole regular file at `path`; refuses anything larger than
// `max_bytes` rather than reading without bound. Errors name the path.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = 64 << 20);

// Creates `path` and its missing parents with `mode` (like mkdir -p). An
// existing directory is fine; an existing non-directory is an error.
Status MakeDirectories(const std::string& path, unsigned mode);

// Writes `data` to `path` atomically and durably: a temporary file beside
// it (PATH.PID.tmp, removed on failure), exactly `mode` whatever the umask,
// fsync, rename over `path`, fsync of the directory. Without `durable`,
// atomically only (no fsync): for caches a crash may lose.
Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode,
                           bool durable = true);

// The same for a file written in pieces: `produce` hands each piece to the
// writer it is given, in order, and returns what the writer returned if
// that failed (then, or if `produce` fails otherwise, nothing is renamed
// over `path`). Large contents need not be held whole.
using PieceWriter = std::function<Status(std::string_view piece)>;
Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const PieceWriter& write)>& produce,
                           unsigned mode, bool durable = true);

}  // namespace sb::base

#endif  // AGENT_BASE_FILE_H_
