#include "agent/sync/staged_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "agent/base/big_endian.h"
#include "agent/base/byte_worker.h"
#include "agent/sync/beneath.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/path.h"
#include "agent/sync/tree_scan.h"

namespace sb::sync {

using base::Status;
using base::UniqueFd;

enum class OpKind : int { kDelete = 0, kMkdir = 1, kPut = 2, kLink = 3, kMeta = 4, kPatch = 5 };

struct StagedRestore::Op {
  OpKind kind = OpKind::kMeta;
  std::string path;
  std::string staged;               // kPut, kPatch: the name in the staging directory
  std::string link_to;              // kLink
  NodeType type = NodeType::kFile;  // kDelete: what is deleted; kPut: what is put
  FileMeta meta;
  std::string sha256;  // kPut files, kPatch
};

namespace {

constexpr int kJournalVersion = 1;
constexpr char kJournal[] = "journal";
constexpr char kLinkTemp[] = "link.tmp";
constexpr uint64_t kWritebackBytes = 8 << 20;
// Files at least this large are hashed on a thread of their own.
constexpr uint64_t kHashThreadBytes = 16 << 20;
// Files at least this large, changed by a delta, are patched in place.
constexpr uint64_t kPatchMinBytes = 4 << 20;
// A staged patch: this, the new size (u64), then pieces: offset (u64),
// length (u32), bytes. Integers big-endian.
constexpr std::string_view kPatchMagic = "SBPT";

// Roots with a restore in progress in this process.
std::mutex active_mu;
std::set<std::string> active_roots;

struct ActiveRoot {
  std::string root;
  bool held = false;
  static base::Result<ActiveRoot> Claim(const std::string& root) {
    std::lock_guard<std::mutex> lock(active_mu);
    for (const std::string& r : active_roots) {
      auto below = [](const std::string& a, const std::string& b) {
        return a == b || (a.starts_with(b) && a[b.size()] == '/');
      };
      if (below(root, r) || below(r, root)) {
        return Status::FailedPrecondition(fmt::format("a restore of {} is already in progress", r));
      }
    }
    active_roots.insert(root);
    return ActiveRoot{root, true};
  }
  ActiveRoot() = default;
  ActiveRoot(std::string r, bool h) : root(std::move(r)), held(h) {}
  ActiveRoot(ActiveRoot&& o) noexcept : root(std::move(o.root)), held(o.held) { o.held = false; }
  ~ActiveRoot() {
    if (!held) return;
    std::lock_guard<std::mutex> lock(active_mu);
    active_roots.erase(root);
  }
};

std::string RegistrationPath(const std::string& state_dir, const std::string& root) {
  Sha256 sha;
  sha.Update(root.data(), root.size());
  return fmt::format("{}/restores/{}", state_dir, sha.HexDigest().substr(0, 32));
}

std::string Where(const std::string& root, std::string_view path) {
  return path.empty() ? root : fmt::format("{}/{}", root, path);
}

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

bool RunningAsRoot() { return ::geteuid() == 0; }

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

Status Sync(int fd, const std::string& where) {
  if (::syncfs(fd) != 0) return Status::FromErrno(fmt::format("syncfs {}", where), errno);
  return Status::Ok();
}

nlohmann::json EncodeOp(const StagedRestore::Op& op) {
  return nlohmann::json::array({static_cast<int>(op.kind), op.path, op.staged, op.link_to,
                                std::string(1, static_cast<char>(op.type)), op.meta.mode,
                                op.meta.mtime_ns, op.meta.uid ? int64_t{*op.meta.uid} : -1,
                                op.meta.gid ? int64_t{*op.meta.gid} : -1, op.sha256});
}

base::Result<StagedRestore::Op> DecodeOp(const nlohmann::json& j) {
  StagedRestore::Op op;
  try {
    if (!j.is_array() || j.size() != 10) throw std::runtime_error("not a 10-element array");
    int kind = j[0].get<int>();
    if (kind < 0 || kind > static_cast<int>(OpKind::kPatch)) {
      throw std::runtime_error("unknown kind");
    }
    op.kind = static_cast<OpKind>(kind);
    op.path = j[1].get<std::string>();
    op.staged = j[2].get<std::string>();
    op.link_to = j[3].get<std::string>();
    const std::string type = j[4].get<std::string>();
    if (type != "f" && type != "d" && type != "l") throw std::runtime_error("unknown type");
    op.type = static_cast<NodeType>(type[0]);
    op.meta.mode = j[5].get<uint32_t>();
    op.meta.mtime_ns = j[6].get<int64_t>();
    if (int64_t u = j[7].get<int64_t>(); u >= 0) op.meta.uid = static_cast<uint32_t>(u);
    if (int64_t g = j[8].get<int64_t>(); g >= 0) op.meta.gid = static_cast<uint32_t>(g);
    op.sha256 = j[9].get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(fmt::format("malformed journal entry: {}", e.what()));
  }
  if (!CheckRestorePath(op.path).ok() ||
      (op.kind == OpKind::kLink && !CheckRestorePath(op.link_to).ok()) ||
      ((op.kind == OpKind::kPut || op.kind == OpKind::kPatch) &&
       (op.staged.empty() || op.staged.find('/') != std::string::npos))) {
    return Status::Corruption(fmt::format("journal entry with a bad path \"{}\"", op.path));
  }
  return op;
}

bool IsType(const struct stat& st, NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return S_ISREG(st.st_mode);
    case NodeType::kDirectory:
      return S_ISDIR(st.st_mode);
    case NodeType::kSymlink:
      return S_ISLNK(st.st_mode);
  }
  return false;
}

// Copies the first `len` bytes of `from` to the start of `to`.
Status CopyRange(int from, int to, uint64_t len) {
  loff_t in = 0, out = 0;
  while (static_cast<uint64_t>(in) < len) {
    ssize_t n = ::copy_file_range(from, &in, to, &out, len - static_cast<uint64_t>(in), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("copying the old file", errno);
    if (n == 0) return Status::Corruption("the old file is shorter than it was");
  }
  return Status::Ok();
}

// Writes the pieces of the staged patch `patch_fd` into `target_fd` at their
// offsets; `*size` (if given) gets the new file's size the patch declares.
Status ReplayPatch(int patch_fd, int target_fd, uint64_t* size) {
  constexpr std::string_view kWhat = "reading the staged patch";
  char head[12];
  base::Result<size_t> n = base::ReadFullAt(patch_fd, head, sizeof head, 0, kWhat);
  if (!n.ok()) return n.status();
  if (*n != sizeof head || std::string_view(head, 4) != kPatchMagic) {
    return Status::Corruption("the staged patch has no header");
  }
  if (size != nullptr) *size = base::GetBigEndian(head + 4, 8);
  std::string buf;
  for (uint64_t at = sizeof head;;) {
    char rec[12];
    n = base::ReadFullAt(patch_fd, rec, sizeof rec, at, kWhat);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::Ok();
    const uint64_t offset = base::GetBigEndian(rec, 8);
    buf.resize(static_cast<size_t>(base::GetBigEndian(rec + 8, 4)));
    base::Result<size_t> body =
        *n == sizeof rec
            ? base::ReadFullAt(patch_fd, buf.data(), buf.size(), at + sizeof rec, kWhat)
            : base::Result<size_t>(size_t{0});
    if (!body.ok()) return body.status();
    if (*n != sizeof rec || *body != buf.size()) {
      return Status::Corruption(fmt::format("the staged patch is cut short at byte {}", at));
    }
    SB_RETURN_IF_ERROR(base::WriteAllAt(target_fd, buf, offset, "patching"));
    at += sizeof rec + buf.size();
  }
}

// Applies the journal to the target. Safe to run again from the start
// after a crash at any point: each step checks whether it is already done.
Status ApplyJournal(const std::string& root, int root_fd, int stage_fd,
                    const std::vector<StagedRestore::Op>& ops) {
  using Op = StagedRestore::Op;
  auto by_kind = [&](OpKind k) {
    std::vector<const Op*> out;
    for (const Op& op : ops) {
      if (op.kind == k) out.push_back(&op);
    }
    return out;
  };
  // 1. Deletes, deepest first; only what is still of the type to delete (a
  // type change's new entry, put there by an earlier attempt, stays). A path
  // whose directory is gone or is no directory now (an earlier attempt
  // replaced it) is already deleted; one behind a symlink is never touched.
  std::vector<const Op*> deletes = by_kind(OpKind::kDelete);
  std::sort(deletes.begin(), deletes.end(),
            [](const Op* a, const Op* b) { return a->path > b->path; });
  for (const Op* op : deletes) {
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd, op->path, &name);
    if (!parent.ok() && (parent.status().code() == base::Code::kNotFound ||
                         parent.status().code() == base::Code::kPermissionDenied)) {
      continue;
    }
    if (!parent.ok()) return parent.status().WithContext(root);
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (!st.ok()) return st.status().WithContext(Where(root, op->path));
    if (st->has_value() && IsType(**st, op->type)) {
      SB_RETURN_IF_ERROR(RemoveTree(parent->get(), name).WithContext(Where(root, op->path)));
    }
    CrashPoint();
  }
  // 2. New directories, parents first.
  std::vector<const Op*> dirs = by_kind(OpKind::kMkdir);
  std::sort(dirs.begin(), dirs.end(), [](const Op* a, const Op* b) { return a->path < b->path; });
  for (const Op* op : dirs) {
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd, op->path, &name);
    if (!parent.ok()) return parent.status().WithContext(root);
    if (::mkdirat(parent->get(), name.c_str(), 0700) != 0) {
      if (errno != EEXIST) return Status::FromErrno(Where(root, op->path), errno);
      base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
      if (!st.ok() || !st->has_value() || !S_ISDIR((*st)->st_mode)) {
        return Status::FailedPrecondition(
            fmt::format("{}: exists and is not a directory", Where(root, op->path)));
      }
    }
    CrashPoint();
  }
  // 3. Staged files and symlinks, renamed into place (a staged name that is
  // gone was renamed by an earlier attempt).
  for (const Op* op : by_kind(OpKind::kPut)) {
    base::Result<std::optional<struct stat>> staged = StatAt(stage_fd, op->staged);
    if (!staged.ok()) return staged.status().WithContext(root);
    if (!staged->has_value()) continue;
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd, op->path, &name);
    if (!parent.ok()) return parent.status().WithContext(root);
    if (::renameat(stage_fd, op->staged.c_str(), parent->get(), name.c_str()) != 0) {
      return Status::FromErrno(Where(root, op->path), errno);
    }
    CrashPoint();
  }
  // 3b. Patches, written into their files in place (again after a crash:
  // the same bytes land at the same offsets), then cut to the new size.
  for (const Op* op : by_kind(OpKind::kPatch)) {
    const std::string where = Where(root, op->path);
    UniqueFd patch(::openat(stage_fd, op->staged.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!patch.valid()) return Status::FromErrno(fmt::format("{}: staged patch", where), errno);
    base::Result<UniqueFd> target =
        OpenBeneath(root_fd, op->path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!target.ok()) return target.status().WithContext(root);
    struct stat st;
    if (::fstat(target->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::FailedPrecondition(fmt::format("{}: no longer a regular file", where));
    }
    uint64_t size = 0;
    SB_RETURN_IF_ERROR(ReplayPatch(patch.get(), target->get(), &size).WithContext(where));
    if (::ftruncate(target->get(), static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(where, errno);
    }
    SB_RETURN_IF_ERROR(SetMetaFd(target->get(), op->meta, where));
    CrashPoint();
  }
  // 4. Hard links, each made beside its name and renamed over it.
  for (const Op* op : by_kind(OpKind::kLink)) {
    std::string name, to_name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd, op->path, &name);
    if (!parent.ok()) return parent.status().WithContext(root);
    base::Result<UniqueFd> to_parent = OpenParentBeneath(root_fd, op->link_to, &to_name);
    if (!to_parent.ok()) return to_parent.status().WithContext(root);
    base::Result<std::optional<struct stat>> have = StatAt(parent->get(), name);
    base::Result<std::optional<struct stat>> to = StatAt(to_parent->get(), to_name);
    if (!have.ok() || !to.ok()) return (!have.ok() ? have.status() : to.status()).WithContext(root);
    if (!to->has_value() || !S_ISREG((*to)->st_mode)) {
      return Status::FailedPrecondition(fmt::format("{}: hard link to {}, which is not a file",
                                                    Where(root, op->path), op->link_to));
    }
    if (have->has_value() && (*have)->st_ino == (*to)->st_ino && (*have)->st_dev == (*to)->st_dev) {
      continue;
    }
    ::unlinkat(stage_fd, kLinkTemp, 0);
    if (::linkat(to_parent->get(), to_name.c_str(), stage_fd, kLinkTemp, 0) != 0 ||
        ::renameat(stage_fd, kLinkTemp, parent->get(), name.c_str()) != 0) {
      return Status::FromErrno(Where(root, op->path), errno);
    }
    CrashPoint();
  }
  // 5. Metadata (mode, owner, time), deepest first, so a directory's time is
  // set after everything inside it changed.
  std::vector<const Op*> metas = by_kind(OpKind::kMeta);
  for (const Op* op : dirs) metas.push_back(op);
  std::sort(metas.begin(), metas.end(), [](const Op* a, const Op* b) { return a->path > b->path; });
  for (const Op* op : metas) {
    const std::string where = Where(root, op->path);
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd, op->path, &name);
    if (!parent.ok()) return parent.status().WithContext(root);
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (!st.ok()) return st.status().WithContext(where);
    if (!st->has_value()) {
      return Status::FailedPrecondition(fmt::format("{}: vanished during the commit", where));
    }
    if (S_ISLNK((*st)->st_mode)) {
      SB_RETURN_IF_ERROR(SetMetaSymlink(parent->get(), name, op->meta, where));
    } else {
      // O_PATH opens without needing read permission and without following;
      // the /proc/self/fd alias then reaches the very inode for chmod/chown.
      UniqueFd fd(::openat(parent->get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) return Status::FromErrno(where, errno);
      const std::string alias = fmt::format("/proc/self/fd/{}", fd.get());
      if (RunningAsRoot() && op->meta.uid && op->meta.gid &&
          ::chown(alias.c_str(), *op->meta.uid, *op->meta.gid) != 0) {
        return Status::FromErrno(fmt::format("chown {}", where), errno);
      }
      if (::chmod(alias.c_str(), op->meta.mode & 07777) != 0) {
        return Status::FromErrno(fmt::format("chmod {}", where), errno);
      }
      timespec times[2] = {{0, UTIME_OMIT}, Timespec(op->meta.mtime_ns)};
      if (::utimensat(AT_FDCWD, alias.c_str(), times, 0) != 0) {
        return Status::FromErrno(fmt::format("utimens {}", where), errno);
      }
    }
    CrashPoint();
  }
  return Sync(root_fd, root);
}

base::Result<std::vector<StagedRestore::Op>> ReadJournal(int stage_fd, const std::string& where) {
  UniqueFd fd(::openat(stage_fd, kJournal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(where, errno);
  base::Result<std::string> bytes = base::ReadFd(fd.get(), where, uint64_t{1} << 30);
  if (!bytes.ok()) return bytes.status();
  nlohmann::json j = nlohmann::json::from_cbor(*bytes, true, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != kJournalVersion ||
      !j.contains("ops") || !j["ops"].is_array()) {
    return Status::Corruption(fmt::format("{}: not a restore journal", where));
  }
  std::vector<StagedRestore::Op> ops;
  for (const nlohmann::json& e : j["ops"]) {
    base::Result<StagedRestore::Op> op = DecodeOp(e);
    if (!op.ok()) return op.status().WithContext(where);
    ops.push_back(std::move(*op));
  }
  return ops;
}

// Ends the staging area of `root`: removes the journal first (so a crash
// from here on leaves a journal-less staging, which is discarded), then the
// rest, then the registration.
Status RemoveStaging(const std::string& root, int root_fd, int stage_fd,
                     const std::string& registration) {
  if (stage_fd >= 0) {
    if (::unlinkat(stage_fd, kJournal, 0) != 0 && errno != ENOENT) {
      return Status::FromErrno(fmt::format("{}/{}/journal", root, kStagingDirName), errno);
    }
    if (::fsync(stage_fd) != 0) return Status::FromErrno(root, errno);
    CrashPoint();
  }
  SB_RETURN_IF_ERROR(RemoveTree(root_fd, std::string(kStagingDirName)).WithContext(root));
  CrashPoint();
  if (::unlink(registration.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(registration, errno);
  }
  return Status::Ok();
}

// Recovers `root` after a crash: rolls a journaled restore forward, or
// discards a staging area that has no journal. "" when there was nothing.
base::Result<std::string> Recover(const std::string& root, int root_fd,
                                  const std::string& registration) {
  base::Result<std::optional<struct stat>> st = StatAt(root_fd, std::string(kStagingDirName));
  if (!st.ok()) return st.status().WithContext(root);
  if (!st->has_value()) {
    ::unlink(registration.c_str());
    return std::string();
  }
  UniqueFd stage(::openat(root_fd, std::string(kStagingDirName).c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!stage.valid()) return Status::FromErrno(Where(root, kStagingDirName), errno);
  base::Result<std::optional<struct stat>> journal = StatAt(stage.get(), kJournal);
  if (!journal.ok()) return journal.status().WithContext(root);
  if (!journal->has_value()) {
    SB_RETURN_IF_ERROR(RemoveStaging(root, root_fd, -1, registration));
    return std::string("discarded");
  }
  base::Result<std::vector<StagedRestore::Op>> ops =
      ReadJournal(stage.get(), fmt::format("{}/{}/journal", root, kStagingDirName));
  if (!ops.ok()) return ops.status();
  SB_RETURN_IF_ERROR(ApplyJournal(root, root_fd, stage.get(), *ops));
  SB_RETURN_IF_ERROR(RemoveStaging(root, root_fd, stage.get(), registration));
  return std::string("rolled forward");
}

base::Status Register(const std::string& registration, const std::string& root) {
  SB_RETURN_IF_ERROR(base::MakeDirectories(registration.substr(0, registration.rfind('/')), 0700));
  return base::WriteFileAtomically(registration, root, 0600);
}

}  // namespace

void CrashPoint() {
  static const long crash_at = [] {
    const char* v = std::getenv("STANDBY_AGENT_CRASH_POINT");
    return v == nullptr ? 0L : std::strtol(v, nullptr, 10);
  }();
  static const char* tally = std::getenv("STANDBY_AGENT_CRASH_TALLY");
  static std::atomic<long> passed{0};
  if (crash_at <= 0 && tally == nullptr) return;
  const long n = ++passed;
  if (tally != nullptr) {
    (void)base::WriteFileAtomically(tally, std::to_string(n), 0600);
  }
  if (n == crash_at) ::kill(::getpid(), SIGKILL);
}

StagedRestore::StagedRestore(std::string root, std::string state_dir, UniqueFd root_fd,
                             UniqueFd stage_fd)
    : root_(std::move(root)),
      state_dir_(std::move(state_dir)),
      root_fd_(std::move(root_fd)),
      stage_fd_(std::move(stage_fd)) {}

StagedRestore::~StagedRestore() {
  if (!committed_) Discard();
  std::lock_guard<std::mutex> lock(active_mu);
  active_roots.erase(root_);
}

// A restore that does not commit leaves the target as it found it: the
// staging area goes, and so does a target directory Begin made; the times
// the staging area's entry and removal moved are put back.
void StagedRestore::Discard() {
  Status s = RemoveStaging(root_, root_fd_.get(), -1, RegistrationPath(state_dir_, root_));
  if (!s.ok()) {
    spdlog::warn("discarding the staged restore of {}: {}", root_, s.message());
    return;
  }
  for (const std::string& dir : made_dirs_) {  // deepest first
    if (::rmdir(dir.c_str()) != 0) return;     // something else was put there
  }
  if (::utimensat(AT_FDCWD, untouched_.path.c_str(), untouched_.times, AT_SYMLINK_NOFOLLOW) != 0) {
    spdlog::warn("{}: times not restored: {}", untouched_.path, std::strerror(errno));
  }
}

base::Result<std::unique_ptr<StagedRestore>> StagedRestore::Begin(const std::string& root,
                                                                  const std::string& state_dir,
                                                                  std::string* recovered) {
  base::Result<ActiveRoot> claim = ActiveRoot::Claim(root);
  if (!claim.ok()) return claim.status();
  // The directories made for a new target, deepest first, and the
  // directory whose times a discarded restore puts back.
  std::vector<std::string> made;
  std::string existing = root;
  struct stat st;
  while (::lstat(existing.c_str(), &st) != 0 && errno == ENOENT && existing.size() > 1) {
    made.push_back(existing);
    existing = existing.substr(0, std::max<size_t>(existing.rfind('/'), 1));
  }
  SB_RETURN_IF_ERROR(base::MakeDirectories(root, 0755));
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid()) return Status::FromErrno(root, errno);
  const std::string registration = RegistrationPath(state_dir, root);
  base::Result<std::string> r = Recover(root, root_fd.get(), registration);
  if (!r.ok()) return r.status().WithContext("recovering an interrupted restore");
  *recovered = *r;
  UntouchedTimes untouched{existing, {}};
  if (::lstat(existing.c_str(), &st) != 0) return Status::FromErrno(existing, errno);
  untouched.times[0] = st.st_atim;
  untouched.times[1] = st.st_mtim;
  SB_RETURN_IF_ERROR(Register(registration, root));
  const std::string stage_name(kStagingDirName);
  if (::mkdirat(root_fd.get(), stage_name.c_str(), 0700) != 0) {
    return Status::FromErrno(Where(root, stage_name), errno);
  }
  UniqueFd stage_fd(
      ::openat(root_fd.get(), stage_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!stage_fd.valid()) return Status::FromErrno(Where(root, stage_name), errno);
  claim->held = false;  // the StagedRestore releases the root from now on
  std::unique_ptr<StagedRestore> restore(
      new StagedRestore(root, state_dir, std::move(root_fd), std::move(stage_fd)));
  restore->made_dirs_ = std::move(made);
  restore->untouched_ = std::move(untouched);
  base::Result<HashCache> cache = HashCache::Load(HashCache::PathFor(state_dir, root));
  if (cache.ok()) {
    restore->cache_ = std::move(*cache);
  } else {
    spdlog::warn("hash cache of {} not used: {}", root, cache.status().message());
  }
  return restore;
}

Status StagedRestore::CheckNew(std::string_view path) {
  if (committed_) return Status::FailedPrecondition("the restore is already committed");
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(fmt::format("\"{}\"", path)));
  if (!paths_.emplace(path).second) {
    return Status::Invalid(fmt::format("{}: named twice in one restore", Where(root_, path)));
  }
  return Status::Ok();
}

Status StagedRestore::Signature(std::string_view path, const ByteSink& out) {
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(fmt::format("\"{}\"", path)));
  base::Result<UniqueFd> fd = OpenBeneath(root_fd_.get(), path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) return fd.status().WithContext(root_);
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(Where(root_, path), errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::Invalid(fmt::format("{}: not a regular file", Where(root_, path)));
  }
  std::optional<std::string> sig = KeptSignature(path, st);
  if (!sig) {
    sig.emplace();
    SB_RETURN_IF_ERROR(MakeSignature(static_cast<uint64_t>(st.st_size), FdSource(fd->get()),
                                     StringSink(&*sig), NewSignatureSeed())
                           .WithContext(Where(root_, path)));
  }
  for (std::string_view rest = *sig; !rest.empty();) {
    std::string_view piece = rest.substr(0, 256 * 1024);
    SB_RETURN_IF_ERROR(out(piece));
    rest.remove_prefix(piece.size());
  }
  // Kept for the file's staging: its sums serve the blocks that stay.
  served_[std::string(path)] = std::move(*sig);
  return Status::Ok();
}

// The signature made when the last restore staged the file, if the file is
// still as it left it and the signature is intact.
std::optional<std::string> StagedRestore::KeptSignature(std::string_view path,
                                                        const struct stat& st) const {
  const CachedHash* cached = cache_.Find(std::string(path));
  if (cached == nullptr || !cached->Matches(st)) return std::nullopt;
  base::Result<std::string> saved = base::ReadFile(SignaturePath(cached->sha256), 1ull << 30);
  if (!saved.ok() || !CheckSignature(*saved).ok()) return std::nullopt;
  return std::move(*saved);
}

std::string StagedRestore::SignaturePath(std::string_view sha256) const {
  Sha256 sha;
  sha.Update(root_.data(), root_.size());
  return fmt::format("{}/sigcache/{}/{}.sig", state_dir_, sha.HexDigest().substr(0, 32), sha256);
}

// Signatures are kept for the contents the target holds, no others.
void StagedRestore::PruneSignatures(const HashCache& now) {
  const std::string any = SignaturePath("x");
  const std::string dir = any.substr(0, any.rfind('/'));
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::set<std::string> keep = now.Hashes();
  std::vector<std::string> drop;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(".sig") && keep.count(n.substr(0, n.size() - 4)) == 0) drop.push_back(n);
  }
  ::closedir(d);
  for (const std::string& n : drop) ::unlink((dir + "/" + n).c_str());
}

Status StagedRestore::StageFile(std::string_view path, bool delta, const ByteSource& data,
                                uint64_t size, std::string_view sha256, const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  const std::string where = Where(root_, path);
  UniqueFd basis;
  struct stat basis_st {};
  std::string previous;  // the basis's signature: its sums serve unchanged blocks
  if (delta) {
    base::Result<UniqueFd> fd = OpenBeneath(root_fd_.get(), path, O_RDONLY | O_NOFOLLOW);
    if (!fd.ok()) return fd.status().WithContext(root_);
    basis = std::move(*fd);
    if (::fstat(basis.get(), &basis_st) != 0) return Status::FromErrno(where, errno);
    // The signature the delta was made against, if this restore served it
    // (block sums are reused by content, so any signature of ours is right).
    if (auto served = served_.find(path); served != served_.end()) {
      previous = std::move(served->second);
      served_.erase(served);
    } else {
      previous = KeptSignature(path, basis_st).value_or("");
    }
  }
  // A large file changed in place is patched in place by the commit: only
  // the bytes not already where they belong are staged. Not for a file with
  // other names (they would change too), nor one the agent could not write.
  bool patch = delta && S_ISREG(basis_st.st_mode) && basis_st.st_nlink == 1 &&
               size >= kPatchMinBytes &&
               (RunningAsRoot() || ((basis_st.st_mode & S_IWUSR) && (meta.mode & S_IWUSR)));
  std::string staged = fmt::format("{}{}", patch ? 'p' : 'f', next_name_++);
  UniqueFd out(::openat(stage_fd_.get(), staged.c_str(),
                        O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) return Status::FromErrno(where, errno);
  uint64_t out_bytes = 0, flushed = 0;  // in the staged file
  auto put = [&](std::string_view bytes) -> Status {
    SB_RETURN_IF_ERROR(base::WriteAll(out.get(), bytes, "write"));
    out_bytes += bytes.size();
    // Start writing back as we go, so the commit's syncfs finds little left
    // to flush (it still waits for all of it: this only moves work earlier).
    if (out_bytes - flushed >= kWritebackBytes) {
      ::sync_file_range(out.get(), static_cast<off_t>(flushed),
                        static_cast<off_t>(out_bytes - flushed), SYNC_FILE_RANGE_WRITE);
      flushed = out_bytes;
    }
    return Status::Ok();
  };
  if (patch) {
    std::string header(kPatchMagic);
    base::PutBigEndian(&header, size, 8);
    SB_RETURN_IF_ERROR(put(header).WithContext(where));
  }

  Sha256 sha;
  SignatureBuilder signature(size, SignatureSeed(previous).value_or(NewSignatureSeed()),
                             previous);  // for the next restore's delta
  ByteSink hash = [&](std::string_view bytes) {
    sha.Update(bytes.data(), bytes.size());
    return signature.Add(bytes);
  };
  // A large file is hashed on a second thread while this one writes it.
  std::optional<base::ByteWorker> hasher;
  if (size >= kHashThreadBytes) hasher.emplace(hash);

  uint64_t written = 0;  // of the new file
  uint64_t patched = 0;  // of those, staged in the patch
  // Too much of the file moved for a patch to pay: stage it whole after all.
  // Its bytes so far are the basis's with the patch's pieces written over.
  auto stage_whole = [&]() -> Status {
    const std::string whole = fmt::format("f{}", next_name_++);
    UniqueFd f(::openat(stage_fd_.get(), whole.c_str(),
                        O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f.valid()) return Status::FromErrno(where, errno);
    SB_RETURN_IF_ERROR(
        CopyRange(basis.get(), f.get(), std::min(written, static_cast<uint64_t>(basis_st.st_size)))
            .WithContext(where));
    SB_RETURN_IF_ERROR(ReplayPatch(out.get(), f.get(), nullptr).WithContext(where));
    if (::lseek(f.get(), static_cast<off_t>(written), SEEK_SET) < 0) {
      return Status::FromErrno(where, errno);
    }
    ::unlinkat(stage_fd_.get(), staged.c_str(), 0);
    staged = whole;
    out = std::move(f);
    out_bytes = flushed = 0;
    patch = false;
    return Status::Ok();
  };
  PieceSink piece = [&](std::string_view bytes, std::optional<uint64_t> from) -> Status {
    if (written + bytes.size() > size) {
      return Status::Invalid(fmt::format("more than the declared {} bytes", size));
    }
    SB_RETURN_IF_ERROR(hasher ? hasher->Add(bytes) : hash(bytes));
    const uint64_t at = written;
    written += bytes.size();
    if (patch && from == at) return Status::Ok();  // in place already
    if (patch) {
      std::string record;
      base::PutBigEndian(&record, at, 8);
      base::PutBigEndian(&record, bytes.size(), 4);
      SB_RETURN_IF_ERROR(put(record));
      SB_RETURN_IF_ERROR(put(bytes));
      patched += bytes.size();
      if (patched > size / 2) SB_RETURN_IF_ERROR(stage_whole());
    } else {
      SB_RETURN_IF_ERROR(put(bytes));
    }
    CrashPoint();
    return Status::Ok();
  };
  if (delta) {
    SB_RETURN_IF_ERROR(ApplyDeltaPieces(basis.get(), data, piece).WithContext(where));
  } else {
    std::string buf(256 * 1024, '\0');
    for (;;) {
      base::Result<size_t> n = data(buf.data(), buf.size());
      if (!n.ok()) return n.status().WithContext(where);
      if (*n == 0) break;
      SB_RETURN_IF_ERROR(piece(std::string_view(buf.data(), *n), std::nullopt).WithContext(where));
    }
  }
  if (written != size) {
    return Status::Corruption(
        fmt::format("{}: staged {} bytes, the source has {}", where, written, size));
  }
  if (hasher) SB_RETURN_IF_ERROR(hasher->Finish().WithContext(where));
  const std::string got = sha.HexDigest();
  if (got != sha256) {
    return Status::Corruption(
        fmt::format("{}: staged content does not match the source (SHA-256 {}, the source's {})",
                    where, got, sha256));
  }
  if (!patch) SB_RETURN_IF_ERROR(SetMetaFd(out.get(), meta, where));
  out.Reset();
  base::Result<std::string> sig = signature.Finish();
  const std::string sig_path = SignaturePath(sha256);
  Status kept = sig.ok() ? base::MakeDirectories(sig_path.substr(0, sig_path.rfind('/')), 0700)
                         : sig.status();
  if (kept.ok()) kept = base::WriteFileAtomically(sig_path, *sig, 0600, /*durable=*/false);
  if (!kept.ok()) spdlog::warn("signature of {} not kept: {}", where, kept.message());
  CrashPoint();
  if (patch) {
    // The commit patches this very file: it must still be as it is now.
    patch_basis_[std::string(path)] = CachedHash::Of(basis_st, "");
    ops_.push_back({OpKind::kPatch,
                    std::string(path),
                    staged,
                    {},
                    NodeType::kFile,
                    meta,
                    std::string(sha256)});
  } else {
    ops_.push_back(
        {OpKind::kPut, std::string(path), staged, {}, NodeType::kFile, meta, std::string(sha256)});
  }
  return Status::Ok();
}

Status StagedRestore::StageSymlink(std::string_view path, std::string_view target,
                                   const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  SB_RETURN_IF_ERROR(CheckSymlinkTarget(target).WithContext(Where(root_, path)));
  const std::string staged = fmt::format("l{}", next_name_++);
  if (::symlinkat(std::string(target).c_str(), stage_fd_.get(), staged.c_str()) != 0) {
    return Status::FromErrno(Where(root_, path), errno);
  }
  SB_RETURN_IF_ERROR(SetMetaSymlink(stage_fd_.get(), staged, meta, Where(root_, path)));
  CrashPoint();
  ops_.push_back({OpKind::kPut, std::string(path), staged, {}, NodeType::kSymlink, meta, {}});
  return Status::Ok();
}

Status StagedRestore::AddDirectory(std::string_view path, const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  ops_.push_back({OpKind::kMkdir, std::string(path), {}, {}, NodeType::kDirectory, meta, {}});
  return Status::Ok();
}

Status StagedRestore::AddHardlink(std::string_view path, std::string_view to) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  SB_RETURN_IF_ERROR(CheckRestorePath(to).WithContext(fmt::format("hard link \"{}\"", path)));
  ops_.push_back({OpKind::kLink, std::string(path), {}, std::string(to), NodeType::kFile, {}, {}});
  return Status::Ok();
}

Status StagedRestore::AddMetadata(std::string_view path, const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  ops_.push_back({OpKind::kMeta, std::string(path), {}, {}, NodeType::kFile, meta, {}});
  return Status::Ok();
}

Status StagedRestore::AddDelete(std::string_view path, NodeType type) {
  // A path may be deleted and then created anew (its type changes).
  if (committed_) return Status::FailedPrecondition("the restore is already committed");
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(fmt::format("\"{}\"", path)));
  ops_.push_back({OpKind::kDelete, std::string(path), {}, {}, type, {}, {}});
  return Status::Ok();
}

// Refuses, before anything is journaled, every change that could not be
// applied: a path below something that is not a real directory (a symlink
// above all) after the deletes, an existing entry in the way of a new one.
Status StagedRestore::Validate() const {
  std::map<std::string, NodeType, std::less<>> deleted;
  std::set<std::string, std::less<>> made_dirs, put;
  for (const Op& op : ops_) {
    if (op.kind == OpKind::kDelete) deleted[op.path] = op.type;
    if (op.kind == OpKind::kMkdir) made_dirs.insert(op.path);
    if (op.kind == OpKind::kPut || op.kind == OpKind::kPatch) put.insert(op.path);
  }
  auto is_deleted = [&](std::string_view p) {  // p or one of its ancestors
    if (deleted.count(p) > 0) return true;
    for (size_t slash = p.find('/'); slash != std::string_view::npos;
         slash = p.find('/', slash + 1)) {
      if (deleted.count(p.substr(0, slash)) > 0) return true;
    }
    return false;
  };
  std::map<std::string, bool, std::less<>> real_dir;  // existing ancestors checked
  auto ancestor_ok = [&](std::string_view dir) -> Status {
    if (made_dirs.count(dir) > 0) return Status::Ok();
    auto it = real_dir.find(dir);
    if (it == real_dir.end()) {
      base::Result<UniqueFd> fd = OpenBeneath(root_fd_.get(), dir, O_PATH | O_DIRECTORY);
      it = real_dir.emplace(std::string(dir), fd.ok() && !is_deleted(dir)).first;
    }
    if (!it->second) {
      return Status::Invalid(fmt::format(
          "{}: not a directory this restore keeps or makes (a symlink, a file, missing, or "
          "deleted)",
          Where(root_, dir)));
    }
    return Status::Ok();
  };
  for (const Op& op : ops_) {
    for (size_t slash = op.path.find('/'); slash != std::string::npos;
         slash = op.path.find('/', slash + 1)) {
      if (op.kind == OpKind::kDelete) break;  // a delete below a missing directory is done
      SB_RETURN_IF_ERROR(ancestor_ok(std::string_view(op.path).substr(0, slash))
                             .WithContext(fmt::format("restoring \"{}\"", op.path)));
    }
    if (op.kind == OpKind::kPatch) {
      // Patched in place: the file must be the very one the patch was made
      // against, unchanged since.
      std::string name;
      base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_.get(), op.path, &name);
      base::Result<std::optional<struct stat>> st =
          parent.ok() ? StatAt(parent->get(), name) : parent.status();
      if (!st.ok() || !st->has_value() || is_deleted(op.path) ||
          !patch_basis_.at(op.path).Matches(**st)) {
        return Status::FailedPrecondition(
            fmt::format("{}: changed since the restore staged its new content; run the restore "
                        "again",
                        Where(root_, op.path)));
      }
    }
    if (op.kind == OpKind::kPut || op.kind == OpKind::kMkdir || op.kind == OpKind::kLink) {
      std::string name;
      base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_.get(), op.path, &name);
      if (!parent.ok()) continue;  // the parent is made by this restore
      base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
      if (!st.ok()) return st.status().WithContext(root_);
      if (!st->has_value() || is_deleted(op.path)) continue;
      const bool is_dir = S_ISDIR((*st)->st_mode);
      if (is_dir != (op.kind == OpKind::kMkdir)) {
        return Status::Invalid(fmt::format("{}: a {} is in the way and is not deleted",
                                           Where(root_, op.path), is_dir ? "directory" : "file"));
      }
    }
    if (op.kind == OpKind::kLink && put.count(op.link_to) == 0) {
      base::Result<UniqueFd> fd = OpenBeneath(root_fd_.get(), op.link_to, O_PATH | O_NOFOLLOW);
      struct stat st;
      if (!fd.ok() || ::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode) ||
          is_deleted(op.link_to)) {
        return Status::Invalid(fmt::format("{}: hard link to {}, which will not be a file",
                                           Where(root_, op.path), op.link_to));
      }
    }
  }
  return Status::Ok();
}

base::Result<CommitResult> StagedRestore::Commit() {
  if (committed_) return Status::FailedPrecondition("the restore is already committed");
  SB_RETURN_IF_ERROR(Validate());
  // The cache describes the old state; drop it before the first change, but
  // keep it in memory to spare hashing the unchanged files afterwards.
  const std::string cache_path = HashCache::PathFor(state_dir_, root_);
  HashCache& cache = cache_;
  SB_RETURN_IF_ERROR(HashCache::Remove(cache_path));
  SB_RETURN_IF_ERROR(Sync(root_fd_.get(), root_));  // all staged data durable
  CrashPoint();

  nlohmann::json list = nlohmann::json::array();
  for (const Op& op : ops_) list.push_back(EncodeOp(op));
  std::vector<uint8_t> bytes =
      nlohmann::json::to_cbor({{"version", kJournalVersion}, {"ops", std::move(list)}});
  const std::string journal_where = fmt::format("{}/{}/journal", root_, kStagingDirName);
  {
    UniqueFd fd(::openat(stage_fd_.get(), "journal.tmp",
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return Status::FromErrno(journal_where, errno);
    SB_RETURN_IF_ERROR(
        FdSink(fd.get())(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))
            .WithContext(journal_where));
    if (::fsync(fd.get()) != 0) return Status::FromErrno(journal_where, errno);
  }
  CrashPoint();
  if (::renameat(stage_fd_.get(), "journal.tmp", stage_fd_.get(), kJournal) != 0 ||
      ::fsync(stage_fd_.get()) != 0) {
    return Status::FromErrno(journal_where, errno);
  }
  committed_ = true;  // from here on, a restart rolls forward
  CrashPoint();
  SB_RETURN_IF_ERROR(ApplyJournal(root_, root_fd_.get(), stage_fd_.get(), ops_));
  CrashPoint();

  CommitResult result;
  result.changes = ops_.size();
  // The new state's manifest and hash cache: written files' hashes are known.
  for (const Op& op : ops_) {
    if ((op.kind != OpKind::kPut && op.kind != OpKind::kPatch) || op.type != NodeType::kFile) {
      continue;
    }
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_.get(), op.path, &name);
    if (!parent.ok()) continue;
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (st.ok() && st->has_value()) cache.Put(op.path, CachedHash::Of(**st, op.sha256));
  }
  HashCache fresh;
  ScanOptions scan;
  scan.cache = &cache;
  scan.record = &fresh;
  scan.hashed_bytes = &result.hashed_bytes;
  base::Result<std::vector<ManifestEntry>> after = ScanTree(root_, scan);
  if (!after.ok()) return after.status().WithContext("scanning the target after the commit");
  result.entries = after->size();
  result.digest = ManifestDigest(*after);
  Status saved = fresh.Save(cache_path);
  if (!saved.ok()) spdlog::warn("hash cache of {} not saved: {}", root_, saved.message());
  PruneSignatures(fresh);
  CrashPoint();
  SB_RETURN_IF_ERROR(
      RemoveStaging(root_, root_fd_.get(), stage_fd_.get(), RegistrationPath(state_dir_, root_)));
  return result;
}

base::Result<std::vector<std::string>> StagedRestore::RecoverAll(const std::string& state_dir) {
  std::vector<std::string> lines;
  const std::string dir = state_dir + "/restores";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return lines;
    return Status::FromErrno(dir, errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && !n.ends_with(".tmp")) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string registration = dir + "/" + n;
    base::Result<std::string> root = base::ReadFile(registration, 8192);
    if (!root.ok() || root->empty() || root->front() != '/') {
      lines.push_back(fmt::format("registration {} unreadable, ignored: {}", registration,
                                  root.ok() ? "not an absolute path" : root.status().message()));
      continue;
    }
    base::Result<ActiveRoot> claim = ActiveRoot::Claim(*root);
    if (!claim.ok()) return claim.status();
    UniqueFd root_fd(::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_fd.valid()) {
      if (errno != ENOENT) return Status::FromErrno(*root, errno);
      ::unlink(registration.c_str());
      continue;
    }
    base::Result<std::string> r = Recover(*root, root_fd.get(), registration);
    if (!r.ok()) {
      // Left as it is: a restore of this target fails with the same error
      // until someone looks; the agent serves everything else.
      lines.push_back(
          fmt::format("interrupted restore of {} NOT recovered: {}", *root, r.status().message()));
      continue;
    }
    if (!r->empty()) lines.push_back(fmt::format("interrupted restore of {} {}", *root, *r));
  }
  return lines;
}

}  // namespace sb::sync
