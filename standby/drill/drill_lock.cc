#include "standby/drill/drill_lock.h"

#include <fcntl.h>

#include <cerrno>

#include <fmt/format.h>

namespace sb::drill {

base::Result<std::unique_ptr<DrillLock>> DrillLock::TryAcquire(const std::string& state_dir,
                                                               const std::string& standby) {
  const std::string dir = state_dir + "/locks";
  base::Status made = base::MakeDirectories(dir, 0700);
  if (!made.ok()) return made;
  const std::string path = fmt::format("{}/{}.lock", dir, standby);
  base::Result<base::UniqueFd> fd = base::TryLockFile(path);
  if (!fd.ok()) {
    if (fd.status().code() == base::Code::kUnavailable) {
      return base::Status::Unavailable(fmt::format("another standbyctl process holds {}", path));
    }
    return fd.status();
  }
  return std::unique_ptr<DrillLock>(new DrillLock(path, std::move(*fd)));
}

base::Result<int> DrillLock::InheritableFd() {
  const int flags = ::fcntl(fd_.get(), F_GETFD);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFD, flags & ~FD_CLOEXEC) != 0) {
    return base::Status::FromErrno(fmt::format("cannot pass on the lock {}", path_), errno);
  }
  return fd_.get();
}

}  // namespace sb::drill
