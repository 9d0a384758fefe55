#include "agent/base/file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <iterator>

#include <fmt/format.h>

namespace sb::base {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status WriteAll(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(what, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status WriteAllAt(int fd, std::string_view data, uint64_t at, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(what, errno);
    data.remove_prefix(static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Result<size_t> ReadFullAt(int fd, char* buf, size_t size, uint64_t at, std::string_view what) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(at + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(what, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode,
                           bool durable) {
  return WriteFileAtomically(
      path, [&](const PieceWriter& write) { return write(data); }, mode, durable);
}

Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const PieceWriter& write)>& produce,
                           unsigned mode, bool durable) {
  // One temporary name per process, so that two writers of the same file
  // (the daemon's drill and an operator's) do not write into each other's.
  const std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return Status::FromErrno(tmp, errno);
  Status written = produce([&](std::string_view piece) { return WriteAll(fd.get(), piece, tmp); });
  // The mode asked for, whatever the umask (a textfile collector must read it).
  if (written.ok() && ::fchmod(fd.get(), mode) != 0) {
    written = Status::FromErrno(fmt::format("chmod {}", tmp), errno);
  }
  if (written.ok() && durable && ::fsync(fd.get()) != 0) {
    written = Status::FromErrno(fmt::format("fsync {}", tmp), errno);
  }
  fd.Reset();
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    written = Status::FromErrno(path, errno);
  }
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (!durable) return Status::Ok();
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0) {
    return Status::FromErrno(fmt::format("fsync {}", dir), errno);
  }
  return Status::Ok();
}

Status ReadFd(int fd, std::string_view what, const std::function<Status(std::string_view)>& each) {
  char buf[256 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(what, errno);
    if (n == 0) return Status::Ok();
    SB_RETURN_IF_ERROR(each(std::string_view(buf, static_cast<size_t>(n))));
  }
}

Result<std::string> ReadFd(int fd, std::string_view what, uint64_t max_bytes) {
  std::string data;
  SB_RETURN_IF_ERROR(ReadFd(fd, what, [&](std::string_view piece) {
    if (data.size() + piece.size() > max_bytes) {
      return Status::Invalid(fmt::format("{}: larger than {} bytes", what, max_bytes));
    }
    data.append(piece);
    return Status::Ok();
  }));
  return data;
}

Status TryLock(int fd, std::string_view what) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status::Unavailable(fmt::format("{} is locked by another process", what));
    }
    return Status::FromErrno(fmt::format("cannot lock {}", what), errno);
  }
  return Status::Ok();
}

Result<UniqueFd> TryLockFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::FromErrno(fmt::format("cannot open {}", path), errno);
  SB_RETURN_IF_ERROR(TryLock(fd.get(), path));
  return fd;
}

Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status::Invalid(fmt::format("{}: is a directory, not a file", path));
  }
  return ReadFd(fd.get(), path, max_bytes);
}

Result<std::string> NearestExisting(const std::string& path) {
  std::string existing = path;
  struct stat st;
  while (::stat(existing.c_str(), &st) != 0) {
    if ((errno != ENOENT && errno != ENOTDIR) || existing.size() <= 1) {
      return Status::FromErrno(existing, errno);
    }
    existing = existing.substr(0, std::max<size_t>(existing.rfind('/'), 1));
  }
  return existing;
}

Status CheckStateDirectory(const std::string& path) {
  if (path.empty()) return Status::Invalid("must not be empty");
  if (path.front() != '/')
    return Status::Invalid(fmt::format("\"{}\" is not an absolute path", path));
  for (size_t start = 1; start < path.size();) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view part = std::string_view(path).substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::Invalid(
          fmt::format("\"{}\" is not a normalized path (no \".\", \"..\" or "
                      "empty names)",
                      path));
    }
    start = slash + 1;
  }
  Result<std::string> nearest = NearestExisting(path);
  if (!nearest.ok()) return nearest.status();
  const std::string& existing = *nearest;
  struct stat st;
  if (::stat(existing.c_str(), &st) != 0) return Status::FromErrno(existing, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status::Invalid(
        existing == path ? fmt::format("{} exists and is not a directory", path)
                         : fmt::format("{} cannot be made: {} is not a directory", path, existing));
  }
  char resolved[PATH_MAX];
  struct statfs fs {};
  if (::realpath(existing.c_str(), resolved) == nullptr || ::statfs(resolved, &fs) != 0) {
    return Status::FromErrno(existing, errno);
  }
  const std::string_view real(resolved);
  auto below = [&](std::string_view top) {
    return real == top || (real.starts_with(top) && real[top.size()] == '/');
  };
  constexpr long kPseudo[] = {PROC_SUPER_MAGIC,   SYSFS_MAGIC,         DEVPTS_SUPER_MAGIC,
                              CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,
                              SECURITYFS_MAGIC};
  if (below("/proc") || below("/sys") || below("/dev") ||
      std::find(std::begin(kPseudo), std::end(kPseudo), fs.f_type) != std::end(kPseudo)) {
    return Status::Invalid(fmt::format(
        "{} is on a kernel pseudo-filesystem ({}), not a place to keep state", path, real));
  }
  return Status::Ok();
}

Status SyncFilesystem(int fd, std::string_view what) {
  if (::syncfs(fd) != 0) return Status::FromErrno(fmt::format("syncfs {}", what), errno);
  return Status::Ok();
}

Status MakeDirectories(const std::string& path, unsigned mode) {
  if (path.empty()) return Status::Invalid("empty directory path");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) == 0 || errno == EEXIST) continue;
    return Status::FromErrno(fmt::format("cannot create directory {}", prefix), errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(path, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition(fmt::format("{}: exists and is not a directory", path));
  }
  return Status::Ok();
}

}  // namespace sb::base
