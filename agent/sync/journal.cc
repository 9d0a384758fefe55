#include "agent/sync/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/base/big_endian.h"
#include "agent/base/quote.h"
#include "agent/proto/cbor_shape.h"
#include "agent/sync/beneath.h"
#include "agent/sync/crash_point.h"
#include "agent/sync/path.h"

namespace sb::sync {

JournalOp JournalOp::Delete(std::string_view path, NodeType type) {
  JournalOp op;
  op.kind = OpKind::kDelete;
  op.path = path;
  op.type = type;
  return op;
}

JournalOp JournalOp::Mkdir(std::string_view path, const FileMeta& meta) {
  JournalOp op;
  op.kind = OpKind::kMkdir;
  op.path = path;
  op.type = NodeType::kDirectory;
  op.meta = meta;
  return op;
}

JournalOp JournalOp::PutFile(std::string_view path, std::string_view staged, const FileMeta& meta,
                             std::string_view sha256) {
  JournalOp op;
  op.kind = OpKind::kPut;
  op.path = path;
  op.staged = staged;
  op.meta = meta;
  op.sha256 = sha256;
  return op;
}

JournalOp JournalOp::PutSymlink(std::string_view path, std::string_view staged,
                                const FileMeta& meta) {
  JournalOp op;
  op.kind = OpKind::kPut;
  op.path = path;
  op.staged = staged;
  op.type = NodeType::kSymlink;
  op.meta = meta;
  return op;
}

JournalOp JournalOp::Patch(std::string_view path, std::string_view staged, const FileMeta& meta,
                           std::string_view sha256) {
  JournalOp op = PutFile(path, staged, meta, sha256);
  op.kind = OpKind::kPatch;
  return op;
}

JournalOp JournalOp::Link(std::string_view path, std::string_view to) {
  JournalOp op;
  op.kind = OpKind::kLink;
  op.path = path;
  op.link_to = to;
  return op;
}

JournalOp JournalOp::Meta(std::string_view path, const FileMeta& meta) {
  JournalOp op;
  op.kind = OpKind::kMeta;
  op.path = path;
  op.meta = meta;
  return op;
}

using base::Status;
using base::UniqueFd;

namespace {

constexpr int kJournalVersion = 1;
constexpr int kMaxJournalDepth = 4;  // {ops: [[...], ...]}
constexpr char kLinkTemp[] = "link.tmp";

// A CBOR head (RFC 8949 section 3): the major type and its argument in the
// fewest bytes, as nlohmann's to_cbor writes every head.
void PutCborHead(uint8_t major, uint64_t arg, std::string* out) {
  const auto type = static_cast<char>(major << 5);
  if (arg < 24) {
    out->push_back(static_cast<char>(type | static_cast<char>(arg)));
    return;
  }
  const int bytes = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffff ? 4 : 8;
  const int info = bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27;
  out->push_back(static_cast<char>(type | static_cast<char>(info)));
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(arg >> (8 * i)));
}

void PutCborInt(int64_t v, std::string* out) {
  if (v >= 0) {
    PutCborHead(0, static_cast<uint64_t>(v), out);
  } else {
    PutCborHead(1, static_cast<uint64_t>(-1 - v), out);
  }
}

void PutCborText(std::string_view s, std::string* out) {
  PutCborHead(3, s.size(), out);
  out->append(s);
}

// [kind, path, staged, link_to, type, mode, mtime_ns, uid, gid, sha256]
void PutOp(const JournalOp& op, std::string* out) {
  PutCborHead(4, 10, out);
  PutCborInt(static_cast<int>(op.kind), out);
  PutCborText(op.path, out);
  PutCborText(op.staged, out);
  PutCborText(op.link_to, out);
  const char type = static_cast<char>(op.type);
  PutCborText(std::string_view(&type, 1), out);
  PutCborInt(op.meta.mode, out);
  PutCborInt(op.meta.mtime_ns, out);
  PutCborInt(op.meta.uid ? int64_t{*op.meta.uid} : -1, out);
  PutCborInt(op.meta.gid ? int64_t{*op.meta.gid} : -1, out);
  PutCborText(op.sha256, out);
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
    return Status::Corruption(
        fmt::format("journal entry with a bad path {}", base::Quote(op.path, kMaxPathBytes + 1)));
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

namespace {

// One change of the journal at a time; each returns ok when the change is
// done, also when an earlier attempt had done it already.
class Applier {
 public:
  Applier(const std::string& root, int root_fd, int stage_fd)
      : root_(root), root_fd_(root_fd), stage_fd_(stage_fd) {}

  // Deletes only what is still of the type to delete (a type change's new
  // entry, put there by an earlier attempt, stays). A path whose directory is
  // gone or is no directory now (an earlier attempt replaced it) is already
  // deleted; one behind a symlink is never touched.
  Status Delete(const JournalOp& op) {
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_, op.path, &name);
    if (!parent.ok() && (parent.status().code() == base::Code::kNotFound ||
                         parent.status().code() == base::Code::kPermissionDenied)) {
      return Status::Ok();
    }
    if (!parent.ok()) return parent.status().WithContext(root_);
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (!st.ok()) return st.status().WithContext(PathBelow(root_, op.path));
    if (!st->has_value() || !IsType(**st, op.type)) return Status::Ok();
    return RemoveTree(parent->get(), name).WithContext(PathBelow(root_, op.path));
  }

  Status Mkdir(const JournalOp& op) {
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_, op.path, &name);
    if (!parent.ok()) return parent.status().WithContext(root_);
    if (::mkdirat(parent->get(), name.c_str(), 0700) == 0) return Status::Ok();
    if (errno != EEXIST) return Status::FromErrno(PathBelow(root_, op.path), errno);
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (!st.ok() || !st->has_value() || !S_ISDIR((*st)->st_mode)) {
      return Status::FailedPrecondition(
          fmt::format("{}: exists and is not a directory", PathBelow(root_, op.path)));
    }
    return Status::Ok();
  }

  // A staged name that is gone was renamed by an earlier attempt.
  Status Put(const JournalOp& op) {
    base::Result<std::optional<struct stat>> staged = StatAt(stage_fd_, op.staged);
    if (!staged.ok()) return staged.status().WithContext(root_);
    if (!staged->has_value()) return Status::Ok();
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_, op.path, &name);
    if (!parent.ok()) return parent.status().WithContext(root_);
    if (::renameat(stage_fd_, op.staged.c_str(), parent->get(), name.c_str()) != 0) {
      return Status::FromErrno(PathBelow(root_, op.path), errno);
    }
    return Status::Ok();
  }

  // Again after a crash, the same bytes land at the same offsets.
  Status Patch(const JournalOp& op) {
    const std::string where = PathBelow(root_, op.path);
    UniqueFd patch(::openat(stage_fd_, op.staged.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!patch.valid()) return Status::FromErrno(fmt::format("{}: staged patch", where), errno);
    base::Result<UniqueFd> target =
        OpenBeneath(root_fd_, op.path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!target.ok()) return target.status().WithContext(root_);
    struct stat st;
    if (::fstat(target->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::FailedPrecondition(fmt::format("{}: no longer a regular file", where));
    }
    uint64_t size = 0;
    SB_RETURN_IF_ERROR(ReplayPatch(patch.get(), target->get(), &size).WithContext(where));
    if (::ftruncate(target->get(), static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(where, errno);
    }
    return SetMetaFd(target->get(), op.meta, where);
  }

  // Made beside its name and renamed over it.
  Status Link(const JournalOp& op) {
    std::string name, to_name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_, op.path, &name);
    if (!parent.ok()) return parent.status().WithContext(root_);
    base::Result<UniqueFd> to_parent = OpenParentBeneath(root_fd_, op.link_to, &to_name);
    if (!to_parent.ok()) return to_parent.status().WithContext(root_);
    base::Result<std::optional<struct stat>> have = StatAt(parent->get(), name);
    base::Result<std::optional<struct stat>> to = StatAt(to_parent->get(), to_name);
    if (!have.ok() || !to.ok()) {
      return (!have.ok() ? have.status() : to.status()).WithContext(root_);
    }
    if (!to->has_value() || !S_ISREG((*to)->st_mode)) {
      return Status::FailedPrecondition(fmt::format("{}: hard link to {}, which is not a file",
                                                    PathBelow(root_, op.path), op.link_to));
    }
    if (have->has_value() && (*have)->st_ino == (*to)->st_ino && (*have)->st_dev == (*to)->st_dev) {
      return Status::Ok();
    }
    ::unlinkat(stage_fd_, kLinkTemp, 0);
    if (::linkat(to_parent->get(), to_name.c_str(), stage_fd_, kLinkTemp, 0) != 0 ||
        ::renameat(stage_fd_, kLinkTemp, parent->get(), name.c_str()) != 0) {
      return Status::FromErrno(PathBelow(root_, op.path), errno);
    }
    return Status::Ok();
  }

  Status Meta(const JournalOp& op) {
    const std::string where = PathBelow(root_, op.path);
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_, op.path, &name);
    if (!parent.ok()) return parent.status().WithContext(root_);
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (!st.ok()) return st.status().WithContext(where);
    if (!st->has_value()) {
      return Status::FailedPrecondition(fmt::format("{}: vanished during the commit", where));
    }
    if (S_ISLNK((*st)->st_mode)) return SetMetaSymlink(parent->get(), name, op.meta, where);
    // O_PATH opens without needing read permission and without following;
    // the /proc/self/fd alias then reaches the very inode for chmod/chown.
    UniqueFd fd(::openat(parent->get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno(where, errno);
    const std::string alias = fmt::format("/proc/self/fd/{}", fd.get());
    if (RunningAsRoot() && op.meta.uid && op.meta.gid &&
        ::chown(alias.c_str(), *op.meta.uid, *op.meta.gid) != 0) {
      return Status::FromErrno(fmt::format("chown {}", where), errno);
    }
    if (::chmod(alias.c_str(), op.meta.mode & 07777) != 0) {
      return Status::FromErrno(fmt::format("chmod {}", where), errno);
    }
    timespec times[2] = {{0, UTIME_OMIT}, Timespec(op.meta.mtime_ns)};
    if (::utimensat(AT_FDCWD, alias.c_str(), times, 0) != 0) {
      return Status::FromErrno(fmt::format("utimens {}", where), errno);
    }
    return Status::Ok();
  }

 private:
  const std::string& root_;
  int root_fd_;
  int stage_fd_;
};

}  // namespace

bool ApplyResult::retryable() const {
  return std::any_of(failed.begin(), failed.end(),
                     [](const Status& s) { return s.code() == base::Code::kIoError; });
}

std::string ApplyResult::Summary() const {
  std::string out =
      fmt::format("{} of its {} changes could not be applied: ", failed.size(), total);
  for (size_t i = 0; i < failed.size() && i < 3; ++i) {
    out += (i > 0 ? "; " : "") + failed[i].message();
  }
  if (failed.size() > 3) out += fmt::format("; and {} more", failed.size() - 3);
  return out;
}

ApplyResult ApplyJournal(const std::string& root, int root_fd, int stage_fd,
                         const std::vector<JournalOp>& ops) {
  using Step = Status (Applier::*)(const JournalOp&);
  Applier applier(root, root_fd, stage_fd);
  ApplyResult result;
  result.total = ops.size();
  std::set<const JournalOp*> failed;  // a change fails once, not once per step
  auto run = [&](const JournalOp* op, Step step) {
    if (failed.count(op) > 0) return;
    Status s = (applier.*step)(*op);
    if (!s.ok()) {
      failed.insert(op);
      result.failed.push_back(std::move(s));
    }
    CrashPoint();
  };
  auto apply = [&](std::vector<const JournalOp*> list, Step step, bool deepest_first) {
    std::sort(list.begin(), list.end(), [&](const JournalOp* a, const JournalOp* b) {
      return deepest_first ? a->path > b->path : a->path < b->path;
    });
    for (const JournalOp* op : list) run(op, step);
  };
  auto of = [&](std::initializer_list<OpKind> kinds) {
    std::vector<const JournalOp*> out;
    for (const JournalOp& op : ops) {
      if (std::find(kinds.begin(), kinds.end(), op.kind) != kinds.end()) out.push_back(&op);
    }
    return out;
  };
  apply(of({OpKind::kDelete}), &Applier::Delete, true);
  apply(of({OpKind::kMkdir}), &Applier::Mkdir, false);  // parents first
  apply(of({OpKind::kPut}), &Applier::Put, false);
  apply(of({OpKind::kPatch}), &Applier::Patch, false);
  // Hard links in journal order: a link may name an earlier link's path.
  for (const JournalOp* op : of({OpKind::kLink})) run(op, &Applier::Link);
  // Metadata deepest first, so a directory's time is set after everything
  // inside it changed.
  apply(of({OpKind::kMeta, OpKind::kMkdir}), &Applier::Meta, true);
  Status synced = base::SyncFilesystem(root_fd, root);
  if (!synced.ok()) result.failed.push_back(std::move(synced));
  return result;
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
  // Every field's type is looked at before its value: nlohmann's value()
  // throws on a type mismatch (found by fuzzing).
  auto version = j.is_object() ? j.find("version") : j.end();
  auto ops_list = j.is_object() ? j.find("ops") : j.end();
  if (j.is_discarded() || !j.is_object() || version == j.end() || !version->is_number_unsigned() ||
      version->get<uint64_t>() != kJournalVersion || ops_list == j.end() || !ops_list->is_array()) {
    return Status::Corruption(fmt::format("{}: not a restore journal", where));
  }
  std::vector<JournalOp> ops;
  for (const nlohmann::json& e : *ops_list) {
    base::Result<JournalOp> op = DecodeOp(e);
    if (!op.ok()) return op.status().WithContext(where);
    ops.push_back(std::move(*op));
  }
  return ops;
}

base::Status EncodeJournal(const std::vector<JournalOp>& ops,
                           const std::function<base::Status(std::string_view piece)>& write) {
  constexpr size_t kPieceBytes = size_t{256} * 1024;
  std::string piece;
  piece.reserve(kPieceBytes + size_t{16} * 1024);
  PutCborHead(5, 2, &piece);  // a map: its keys in order, as nlohmann sorts them
  PutCborText("ops", &piece);
  PutCborHead(4, ops.size(), &piece);
  for (const JournalOp& op : ops) {
    PutOp(op, &piece);
    if (piece.size() >= kPieceBytes) {
      SB_RETURN_IF_ERROR(write(piece));
      piece.clear();
    }
  }
  PutCborText("version", &piece);
  PutCborInt(kJournalVersion, &piece);
  return write(piece);
}

std::string EncodeJournal(const std::vector<JournalOp>& ops) {
  std::string bytes;
  base::Status s = EncodeJournal(ops, [&](std::string_view piece) {
    bytes.append(piece);
    return base::Status::Ok();
  });
  (void)s;  // appending cannot fail
  return bytes;
}

base::Result<std::vector<JournalOp>> ReadJournal(int stage_fd, const std::string& where) {
  UniqueFd fd(::openat(stage_fd, kJournalName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(where, errno);
  base::Result<std::string> bytes = base::ReadFd(fd.get(), where, uint64_t{1} << 30);
  if (!bytes.ok()) return bytes.status();
  return DecodeJournal(*bytes, where);
}

}  // namespace sb::sync
