#include "agent/sync/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/base/big_endian.h"
#include "agent/proto/cbor_shape.h"
#include "agent/sync/beneath.h"
#include "agent/sync/crash_point.h"
#include "agent/sync/path.h"

namespace sb::sync {

using base::Status;
using base::UniqueFd;

namespace {

constexpr int kJournalVersion = 1;
constexpr int kMaxJournalDepth = 4;  // {ops: [[...], ...]}
constexpr char kLinkTemp[] = "link.tmp";

std::string Where(const std::string& root, std::string_view path) {
  return path.empty() ? root : fmt::format("{}/{}", root, path);
}

nlohmann::json EncodeOp(const JournalOp& op) {
  return nlohmann::json::array({static_cast<int>(op.kind), op.path, op.staged, op.link_to,
                                std::string(1, static_cast<char>(op.type)), op.meta.mode,
                                op.meta.mtime_ns, op.meta.uid ? int64_t{*op.meta.uid} : -1,
                                op.meta.gid ? int64_t{*op.meta.gid} : -1, op.sha256});
}

base::Result<JournalOp> DecodeOp(const nlohmann::json& j) {
  JournalOp op;
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

}  // namespace

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

Status ApplyJournal(const std::string& root, int root_fd, int stage_fd,
                    const std::vector<JournalOp>& ops) {
  using Op = JournalOp;
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
  return base::SyncFilesystem(root_fd, root);
}

base::Result<std::vector<JournalOp>> DecodeJournal(std::string_view bytes,
                                                   const std::string& where) {
  // A journal left by a crash is input too: checked before nlohmann's
  // recursive reader sees it, which may also throw when told not to.
  if (!proto::CheckCborShape(bytes, kMaxJournalDepth).ok()) {
    return Status::Corruption(fmt::format("{}: not a restore journal", where));
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::from_cbor(bytes.begin(), bytes.end(), true, false);
  } catch (const nlohmann::json::exception&) {
    j = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != kJournalVersion ||
      !j.contains("ops") || !j["ops"].is_array()) {
    return Status::Corruption(fmt::format("{}: not a restore journal", where));
  }
  std::vector<JournalOp> ops;
  for (const nlohmann::json& e : j["ops"]) {
    base::Result<JournalOp> op = DecodeOp(e);
    if (!op.ok()) return op.status().WithContext(where);
    ops.push_back(std::move(*op));
  }
  return ops;
}

std::string EncodeJournal(const std::vector<JournalOp>& ops) {
  nlohmann::json list = nlohmann::json::array();
  for (const JournalOp& op : ops) list.push_back(EncodeOp(op));
  std::vector<uint8_t> bytes =
      nlohmann::json::to_cbor({{"version", kJournalVersion}, {"ops", std::move(list)}});
  return std::string(bytes.begin(), bytes.end());
}

base::Result<std::vector<JournalOp>> ReadJournal(int stage_fd, const std::string& where) {
  UniqueFd fd(::openat(stage_fd, kJournalName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(where, errno);
  base::Result<std::string> bytes = base::ReadFd(fd.get(), where, uint64_t{1} << 30);
  if (!bytes.ok()) return bytes.status();
  return DecodeJournal(*bytes, where);
}

}  // namespace sb::sync
