#include "agent/sync/path.h"

#include <fmt/format.h>

#include "agent/base/quote.h"

namespace sb::sync {

base::Status CheckRelativePath(std::string_view path) {
  using base::Status;
  if (path.empty()) return Status::Invalid("empty path");
  if (path.size() > kMaxPathBytes) {
    return Status::Invalid(
        fmt::format("path of {} bytes is longer than {}", path.size(), kMaxPathBytes));
  }
  if (path.find('\0') != std::string_view::npos) return Status::Invalid("path contains a NUL byte");
  if (path.front() == '/') return Status::Invalid("absolute path");
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return Status::Invalid("path climbs out with \"..\"");
    if (part.empty() || part == ".") return Status::Invalid("path is not normalized");
    if (part.size() > kMaxNameBytes) {
      return Status::Invalid(
          fmt::format("a name of {} bytes is longer than {}", part.size(), kMaxNameBytes));
    }
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

base::Status CheckSymlinkTarget(std::string_view target) {
  using base::Status;
  if (target.empty()) return Status::Invalid("symlink without a target");
  if (target.find('\0') != std::string_view::npos) {
    return Status::Invalid("symlink target contains a NUL byte");
  }
  if (target.size() > kMaxPathBytes) {
    return Status::Invalid(
        fmt::format("symlink target of {} bytes is longer than {}", target.size(), kMaxPathBytes));
  }
  return Status::Ok();
}

std::string PathBelow(std::string_view root, std::string_view path) {
  return path.empty() ? std::string(root) : fmt::format("{}/{}", root, path);
}

std::string ChildPath(std::string_view parent, std::string_view name) {
  return parent.empty() ? std::string(name) : fmt::format("{}/{}", parent, name);
}

base::Status CheckRestorePath(std::string_view path) {
  SB_RETURN_IF_ERROR(CheckRelativePath(path));
  if (path == kStagingDirName ||
      (path.starts_with(kStagingDirName) && path[kStagingDirName.size()] == '/')) {
    return base::Status::Invalid(
        fmt::format("\"{}\" is reserved for the restore's staging area", kStagingDirName));
  }
  return base::Status::Ok();
}

base::Status CheckUnderRoots(std::string_view path, const std::vector<std::string>& roots) {
  if (path.empty() || path.front() != '/') {
    return base::Status::Invalid(fmt::format("{} is not an absolute path", base::Quote(path)));
  }
  base::Status shape = CheckRelativePath(path.substr(1));
  if (!shape.ok()) return shape.WithContext(base::Printable(path, kMaxPathBytes + 1));
  for (const std::string& root : roots) {
    if (path == root || (path.starts_with(root) && path[root.size()] == '/')) {
      return base::Status::Ok();
    }
  }
  return base::Status::PermissionDenied(
      fmt::format("{} is not under this agent's data_roots", base::Printable(path)));
}

}  // namespace sb::sync
