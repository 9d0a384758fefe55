#include "tests/support/tmpfs.h"

#include <sys/mount.h>
#include <unistd.h>

#include <utility>

namespace sb::testing {

Tmpfs::Tmpfs(std::string path, const std::string& options) : path_(std::move(path)) {
  mounted_ = ::geteuid() == 0 && ::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

Tmpfs::~Tmpfs() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

}  // namespace sb::testing
