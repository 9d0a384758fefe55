#include "agent/sync/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "agent/sync/path.h"

namespace sb::sync {

using base::Status;
using base::UniqueFd;

base::Result<UniqueFd> OpenBeneath(int root_fd, std::string_view path, int flags, unsigned mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const std::string p = path.empty() ? "." : std::string(path);
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return Status::PermissionDenied(
          fmt::format("{}: a symlink is on the way (a restore never writes through one)", p));
    }
    if (err == ENOTDIR) {
      return Status::NotFound(fmt::format("{}: a component on the way is not a directory", p));
    }
    if (err == EXDEV) {
      return Status::PermissionDenied(fmt::format("{}: leaves the target directory", p));
    }
    return Status::FromErrno(p, err);
  }
  return UniqueFd(static_cast<int>(fd));
}

base::Result<UniqueFd> OpenParentBeneath(int root_fd, std::string_view path, std::string* name) {
  const size_t slash = path.rfind('/');
  *name = std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
  std::string_view parent = slash == std::string_view::npos ? "" : path.substr(0, slash);
  return OpenBeneath(root_fd, parent, O_RDONLY | O_DIRECTORY);
}

base::Result<std::optional<struct stat>> StatAt(int dir_fd, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return {st};
  if (errno == ENOENT) return std::optional<struct stat>();
  return Status::FromErrno(name, errno);
}

namespace {

// Removes what the directory `top_fd` holds, depth first, one directory
// open at a time: a tree as deep as a path allows needs no more
// descriptors than a flat one. Directories are reopened from `top_fd`
// without following a symlink.
Status RemoveContents(int top_fd, const std::string& where) {
  std::vector<std::pair<std::string, bool>> stack = {{"", false}};  // path, emptied
  while (!stack.empty()) {
    auto [path, emptied] = std::move(stack.back());
    stack.pop_back();
    const std::string here = PathBelow(where, path);
    if (emptied) {
      std::string name;
      base::Result<UniqueFd> parent = OpenParentBeneath(top_fd, path, &name);
      if (!parent.ok()) return parent.status().WithContext(where);
      if (::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return Status::FromErrno(here, errno);
      }
      continue;
    }
    base::Result<UniqueFd> fd = OpenBeneath(top_fd, path, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) {
      if (fd.status().code() == base::Code::kNotFound) continue;
      return fd.status().WithContext(where);
    }
    const int dir_fd = fd->get();
    DIR* dir = ::fdopendir(fd->Release());
    if (dir == nullptr) {
      ::close(dir_fd);
      return Status::FromErrno(here, errno);
    }
    std::vector<std::string> names;
    while (dirent* d = ::readdir(dir)) {
      std::string n = d->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    if (!path.empty()) stack.emplace_back(path, true);  // once its contents are gone
    Status result;
    for (const std::string& n : names) {
      struct stat st;
      if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        result = Status::FromErrno(PathBelow(here, n), errno);
        break;
      }
      if (S_ISDIR(st.st_mode)) {
        stack.emplace_back(ChildPath(path, n), false);
      } else if (::unlinkat(dir_fd, n.c_str(), 0) != 0 && errno != ENOENT) {
        result = Status::FromErrno(PathBelow(here, n), errno);
        break;
      }
    }
    ::closedir(dir);
    SB_RETURN_IF_ERROR(result);
  }
  return Status::Ok();
}

}  // namespace

Status RemoveTree(int dir_fd, const std::string& name) {
  base::Result<std::optional<struct stat>> st = StatAt(dir_fd, name);
  if (!st.ok()) return st.status();
  if (!st->has_value()) return Status::Ok();
  if (S_ISDIR((*st)->st_mode)) {
    UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) return Status::FromErrno(name, errno);
    SB_RETURN_IF_ERROR(RemoveContents(child.get(), name));
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::FromErrno(name, errno);
    }
    return Status::Ok();
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::FromErrno(name, errno);
  }
  return Status::Ok();
}

}  // namespace sb::sync
