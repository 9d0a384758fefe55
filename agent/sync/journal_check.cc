#include "agent/sync/journal_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include <fmt/format.h>

#include "agent/sync/beneath.h"
#include "agent/sync/path.h"

namespace sb::sync {
namespace {

using base::Status;

enum class Kind { kNone, kFile, kDirectory, kSymlink, kOther };

Kind KindOf(mode_t mode) {
  if (S_ISREG(mode)) return Kind::kFile;
  if (S_ISDIR(mode)) return Kind::kDirectory;
  if (S_ISLNK(mode)) return Kind::kSymlink;
  return Kind::kOther;
}

Kind KindOf(NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return Kind::kFile;
    case NodeType::kDirectory:
      return Kind::kDirectory;
    case NodeType::kSymlink:
      return Kind::kSymlink;
  }
  return Kind::kOther;
}

std::string_view Parent(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// What is on disk at a path now. `blocked`: the way there is not a chain of
// real directories (a symlink or a file on it): a change there would fail.
struct DiskEntry {
  Kind kind = Kind::kNone;
  bool blocked = false;
  struct stat st {};
};

// The changes of one kind, as indexes into the journal sorted by path (the
// earliest first among changes of one path): looked up without a copy of
// every path, which at 100,000 changes had cost more than the journal.
class OpIndex {
 public:
  OpIndex(const std::vector<JournalOp>& ops, OpKind kind) : ops_(ops) {
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == kind) by_path_.push_back(i);
    }
    std::stable_sort(by_path_.begin(), by_path_.end(),
                     [&](size_t a, size_t b) { return ops[a].path < ops[b].path; });
  }

  // The earliest change of `path`, or null.
  const JournalOp* Find(std::string_view path) const {
    auto it = std::lower_bound(by_path_.begin(), by_path_.end(), path,
                               [&](size_t i, std::string_view p) { return ops_[i].path < p; });
    return it != by_path_.end() && ops_[*it].path == path ? &ops_[*it] : nullptr;
  }
  bool Has(std::string_view path) const { return Find(path) != nullptr; }

  // Each path once, in path order.
  std::vector<std::string_view> Paths() const {
    std::vector<std::string_view> paths;
    for (size_t i : by_path_) {
      if (paths.empty() || paths.back() != ops_[i].path) paths.push_back(ops_[i].path);
    }
    return paths;
  }

 private:
  const std::vector<JournalOp>& ops_;
  std::vector<size_t> by_path_;
};

// The target as ApplyJournal will find it, step by step. Lookups of the
// disk are made once per path (memoized), so a deep tree costs one lookup
// per directory, not one per directory per entry below it.
class Checker {
 public:
  Checker(const JournalTarget& target, const std::vector<JournalOp>& ops)
      : t_(target),
        ops_(ops),
        deletes_(ops, OpKind::kDelete),
        made_(ops, OpKind::kMkdir),
        put_(ops, OpKind::kPut),
        patched_(ops, OpKind::kPatch),
        links_(ops, OpKind::kLink) {}

  Status Run() {
    for (const JournalOp& op : ops_) {
      SB_RETURN_IF_ERROR(CheckOp(op));
    }
    SB_RETURN_IF_ERROR(CheckLinks());
    return CheckInodes();
  }

 private:
  std::string Where(std::string_view path) const { return PathBelow(t_.root, path); }

  base::Result<DiskEntry> OnDisk(std::string_view path) {
    if (auto it = disk_.find(path); it != disk_.end()) return it->second;
    DiskEntry e;
    if (path.empty()) {
      e.kind = Kind::kDirectory;
    } else {
      std::string name;
      base::Result<base::UniqueFd> parent = OpenParentBeneath(t_.root_fd, path, &name);
      if (!parent.ok()) {
        if (parent.status().code() == base::Code::kNotFound) {
          e.kind = Kind::kNone;
        } else if (parent.status().code() == base::Code::kPermissionDenied) {
          e.blocked = true;
        } else {
          return parent.status().WithContext(t_.root);
        }
      } else {
        base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
        if (!st.ok()) return st.status().WithContext(Where(path));
        if (st->has_value()) {
          e.st = **st;
          e.kind = KindOf(e.st.st_mode);
        }
      }
    }
    // Directories are looked up again for every entry below them; anything
    // else (most paths: a file, or a new path not there yet) is asked once
    // or twice and not worth a copy of its path and stat.
    if (e.kind == Kind::kDirectory) disk_.emplace(std::string(path), e);
    return e;
  }

  // Whether the deletes remove what is at `path` (or above it) now. Kept
  // for the directories above a path (`memo`), which are asked again for
  // every entry below them, not for each path itself.
  base::Result<bool> Removed(std::string_view path, bool memo = false) {
    if (path.empty()) return false;
    if (auto it = removed_.find(path); it != removed_.end()) return it->second;
    base::Result<bool> above = Removed(Parent(path), true);
    if (!above.ok()) return above.status();
    bool removed = *above;
    if (const JournalOp* d = deletes_.Find(path); !removed && d != nullptr) {
      base::Result<DiskEntry> now = OnDisk(path);
      if (!now.ok()) return now.status();
      removed = now->kind == KindOf(d->type);  // only what is still of the type noted
    }
    if (memo) removed_.emplace(std::string(path), removed);
    return removed;
  }

  // What `path` holds after the deletes, new directories, renames and
  // patches; hard links come after.
  base::Result<Kind> After(std::string_view path) {
    if (const JournalOp* p = put_.Find(path)) return KindOf(p->type);
    if (made_.Has(path)) return Kind::kDirectory;
    if (patched_.Has(path)) return Kind::kFile;
    base::Result<bool> removed = Removed(path);
    if (!removed.ok()) return removed.status();
    if (*removed) return Kind::kNone;
    base::Result<DiskEntry> now = OnDisk(path);
    if (!now.ok()) return now.status();
    return now->blocked ? Kind::kNone : now->kind;
  }

  // The directory `dir` is one a change can land in: a real directory this
  // restore keeps or makes, and so is every directory above it.
  Status DirOk(std::string_view dir) {
    if (dir.empty()) return Status::Ok();
    if (auto it = dir_ok_.find(dir); it != dir_ok_.end()) return it->second;
    Status s = DirOk(Parent(dir));
    if (s.ok()) {
      base::Result<Kind> kind = After(dir);
      if (!kind.ok()) {
        s = kind.status();
      } else if (*kind != Kind::kDirectory || links_.Has(dir)) {
        s = Status::Invalid(
            fmt::format("{}: not a directory this restore keeps or makes (a symlink, a file, "
                        "missing, or deleted)",
                        Where(dir)));
      }
    }
    dir_ok_.emplace(std::string(dir), s);
    return s;
  }

  // What is at `path` after the deletes, when it is kept: kNone otherwise.
  base::Result<DiskEntry> Kept(std::string_view path) {
    base::Result<bool> removed = Removed(path);
    if (!removed.ok()) return removed.status();
    if (*removed) return DiskEntry{};
    return OnDisk(path);
  }

  // An agent that is not root can set the mode and time only of what it owns.
  Status CheckOwner(std::string_view path, const DiskEntry& e) const {
    if (RunningAsRoot() || e.kind == Kind::kNone || e.st.st_uid == ::geteuid()) {
      return Status::Ok();
    }
    return Status::PermissionDenied(fmt::format(
        "{}: owned by uid {}; the agent runs as uid {} and cannot set its mode and time (run the "
        "agent as root, or give it the target)",
        Where(path), e.st.st_uid, ::geteuid()));
  }

  Status CheckOp(const JournalOp& op) {
    if (op.kind == OpKind::kDelete)
      return Status::Ok();  // a delete below a missing directory is done
    if (Status way = DirOk(Parent(op.path)); !way.ok()) {
      return way.WithContext(fmt::format("restoring \"{}\"", op.path));
    }
    if (const int64_t s = SecondsOf(op.meta.mtime_ns);
        op.kind != OpKind::kLink && t_.times && !t_.times->Contains(s)) {
      return CheckStorableTime(Where(op.path), s, *t_.times);
    }
    base::Result<DiskEntry> kept = Kept(op.path);
    if (!kept.ok()) return kept.status();
    switch (op.kind) {
      case OpKind::kMkdir:
        if (kept->kind != Kind::kNone && kept->kind != Kind::kDirectory) {
          return Status::Invalid(
              fmt::format("{}: a file is in the way and is not deleted", Where(op.path)));
        }
        return CheckOwner(op.path, *kept);
      case OpKind::kPut:
      case OpKind::kLink:
        if (kept->kind == Kind::kDirectory) {
          return Status::Invalid(
              fmt::format("{}: a directory is in the way and is not deleted", Where(op.path)));
        }
        return Status::Ok();
      case OpKind::kPatch:
        return CheckPatch(op, *kept);
      case OpKind::kMeta: {
        base::Result<Kind> after = After(op.path);
        if (!after.ok()) return after.status();
        if (*after == Kind::kNone && !links_.Has(op.path)) {
          return Status::FailedPrecondition(
              fmt::format("{}: does not exist and this restore does not make it, so its mode and "
                          "time cannot be set",
                          Where(op.path)));
        }
        return put_.Has(op.path) || made_.Has(op.path) ? Status::Ok() : CheckOwner(op.path, *kept);
      }
      case OpKind::kDelete:
        break;
    }
    return Status::Ok();
  }

  // Patched in place: the file must be the very one the patch was made
  // against, unchanged since, and writable by the agent.
  Status CheckPatch(const JournalOp& op, const DiskEntry& kept) {
    const CachedHash* basis = nullptr;
    if (t_.patch_basis != nullptr) {
      auto it = t_.patch_basis->find(op.path);
      if (it != t_.patch_basis->end()) basis = &it->second;
    }
    if (kept.kind != Kind::kFile || basis == nullptr || !basis->Matches(kept.st)) {
      return Status::FailedPrecondition(
          fmt::format("{}: changed since the restore staged its new content; run the restore "
                      "again",
                      Where(op.path)));
    }
    base::Result<base::UniqueFd> writable =
        OpenBeneath(t_.root_fd, op.path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!writable.ok()) {
      return Status::PermissionDenied(fmt::format("{}: cannot be opened for writing: {}",
                                                  Where(op.path), writable.status().message()));
    }
    return CheckOwner(op.path, kept);
  }

  // Hard links, in journal order: each names a file that is a regular file
  // by then, and no file gets more names than the filesystem allows.
  Status CheckLinks() {
    std::map<std::string, std::string, std::less<>> first_name;  // link path -> file it names
    std::map<std::string, uint64_t, std::less<>> names;          // file -> names it will have
    const long link_max = ::fpathconf(t_.root_fd, _PC_LINK_MAX);
    for (const JournalOp& op : ops_) {
      if (op.kind != OpKind::kLink) continue;
      const std::string where = Where(op.path);
      if (op.link_to == op.path)
        return Status::Invalid(fmt::format("{}: hard link to itself", where));
      auto earlier = first_name.find(op.link_to);
      const std::string file = earlier != first_name.end() ? earlier->second : op.link_to;
      if (earlier == first_name.end()) {
        Status way = DirOk(Parent(op.link_to));
        base::Result<Kind> kind = After(op.link_to);
        if (!kind.ok()) return kind.status();
        if (!way.ok() || *kind != Kind::kFile || links_.Has(op.link_to)) {
          return Status::Invalid(
              fmt::format("{}: hard link to {}, which will not be a file", where, op.link_to));
        }
      }
      first_name[op.path] = file;
      // Counted only when the link is new: an unchanged name of the same
      // file is linked again at no cost.
      base::Result<DiskEntry> target = OnDisk(file);
      base::Result<DiskEntry> here = Kept(op.path);
      if (!target.ok() || !here.ok()) return !target.ok() ? target.status() : here.status();
      const bool on_disk = !put_.Has(file);
      auto [count, first] = names.try_emplace(file, on_disk ? target->st.st_nlink : 1);
      const bool same = on_disk && here->kind == Kind::kFile &&
                        here->st.st_ino == target->st.st_ino &&
                        here->st.st_dev == target->st.st_dev;
      if (!same) ++count->second;
      if (link_max > 0 && count->second > static_cast<uint64_t>(link_max)) {
        return Status::Invalid(fmt::format(
            "{}: would be the {}th name of {}; the target's filesystem allows {} hard links", where,
            count->second, Where(file), link_max));
      }
    }
    return Status::Ok();
  }

  // Every new directory needs an inode; staged files and symlinks have theirs.
  Status CheckInodes() {
    uint64_t needed = 0;
    for (std::string_view dir : made_.Paths()) {
      base::Result<DiskEntry> kept = Kept(dir);
      if (!kept.ok()) return kept.status();
      if (kept->kind != Kind::kDirectory) ++needed;
    }
    struct statvfs fs {};
    if (needed == 0 || ::fstatvfs(t_.root_fd, &fs) != 0 || fs.f_files == 0) return Status::Ok();
    if (fs.f_favail < needed) {
      return Status::FailedPrecondition(
          fmt::format("{}: the restore makes {} directories, and the filesystem has {} free inodes",
                      t_.root, needed, fs.f_favail));
    }
    return Status::Ok();
  }

  const JournalTarget& t_;
  const std::vector<JournalOp>& ops_;
  OpIndex deletes_, made_, put_, patched_, links_;
  std::map<std::string, DiskEntry, std::less<>> disk_;  // directories only
  std::map<std::string, bool, std::less<>> removed_;
  std::map<std::string, Status, std::less<>> dir_ok_;
};

}  // namespace

base::Status CheckJournal(const JournalTarget& target, const std::vector<JournalOp>& ops) {
  return Checker(target, ops).Run();
}

}  // namespace sb::sync
