#include "agent/sync/file_meta.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace sb::sync {

using base::Status;

bool RunningAsRoot() { return ::geteuid() == 0; }

timespec Timespec(int64_t ns) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1'000'000'000;
    t.tv_sec -= 1;
  }
  return t;
}

// Owner, mode and time of the open file or directory `fd`.
Status SetMetaFd(int fd, const FileMeta& meta, const std::string& where) {
  if (RunningAsRoot() && meta.uid && meta.gid && ::fchown(fd, *meta.uid, *meta.gid) != 0) {
    return Status::FromErrno(fmt::format("chown {}", where), errno);
  }
  if (::fchmod(fd, meta.mode & 07777) != 0) {
    return Status::FromErrno(fmt::format("chmod {}", where), errno);
  }
  timespec times[2] = {{0, UTIME_OMIT}, Timespec(meta.mtime_ns)};
  if (::futimens(fd, times) != 0) return Status::FromErrno(fmt::format("utimens {}", where), errno);
  return Status::Ok();
}

// Owner and time of the symlink `name` in `dir_fd` (a symlink has no mode).
Status SetMetaSymlink(int dir_fd, const std::string& name, const FileMeta& meta,
                      const std::string& where) {
  if (RunningAsRoot() && meta.uid && meta.gid &&
      ::fchownat(dir_fd, name.c_str(), *meta.uid, *meta.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno(fmt::format("chown {}", where), errno);
  }
  timespec times[2] = {{0, UTIME_OMIT}, Timespec(meta.mtime_ns)};
  if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno(fmt::format("utimens {}", where), errno);
  }
  return Status::Ok();
}

}  // namespace sb::sync
