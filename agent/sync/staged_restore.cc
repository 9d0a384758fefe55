#include "agent/sync/staged_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/big_endian.h"
#include "agent/base/byte_worker.h"
#include "agent/base/quote.h"
#include "agent/sync/beneath.h"
#include "agent/sync/crash_point.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/journal_check.h"
#include "agent/sync/path.h"
#include "agent/sync/target_fs.h"
#include "agent/sync/tree_scan.h"

namespace sb::sync {

using base::Status;
using base::UniqueFd;

namespace {

constexpr uint64_t kWritebackBytes = 8 << 20;
// Files at least this large are hashed on a thread of their own.
constexpr uint64_t kHashThreadBytes = 16 << 20;
// Files at least this large, changed by a delta, are patched in place.
constexpr uint64_t kPatchMinBytes = 4 << 20;

// Roots with a restore or verification in progress in this process, and
// which it is.
std::mutex active_mu;
std::map<std::string, std::string> active_roots;

}  // namespace

base::Result<ActiveRoot> ActiveRoot::Claim(const std::string& root, std::string_view what) {
  std::lock_guard<std::mutex> lock(active_mu);
  for (const auto& [r, held_for] : active_roots) {
    auto below = [](const std::string& a, const std::string& b) {
      return a == b || (a.starts_with(b) && a[b.size()] == '/');
    };
    if (below(root, r) || below(r, root)) {
      return Status::FailedPrecondition(
          fmt::format("a {} of {} is already in progress", held_for, r));
    }
  }
  active_roots.emplace(root, what);
  return ActiveRoot(root, true);
}

ActiveRoot::ActiveRoot(ActiveRoot&& o) noexcept : root(std::move(o.root)), held(o.held) {
  o.held = false;
}

ActiveRoot::~ActiveRoot() {
  if (!held) return;
  std::lock_guard<std::mutex> lock(active_mu);
  active_roots.erase(root);
}

namespace {

std::string RegistrationPath(const std::string& state_dir, const std::string& root) {
  Sha256 sha;
  sha.Update(root.data(), root.size());
  return fmt::format("{}/restores/{}", state_dir, sha.HexDigest().substr(0, 32));
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

// Ends the staging area of `root`: removes the journal first (so a crash
// from here on leaves a journal-less staging, which is discarded), then the
// rest, then the registration.
Status RemoveStaging(const std::string& root, int root_fd, int stage_fd,
                     const std::string& registration) {
  if (stage_fd >= 0) {
    if (::unlinkat(stage_fd, kJournalName, 0) != 0 && errno != ENOENT) {
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
  if (!stage.valid()) return Status::FromErrno(PathBelow(root, kStagingDirName), errno);
  base::Result<std::optional<struct stat>> journal = StatAt(stage.get(), kJournalName);
  if (!journal.ok()) return journal.status().WithContext(root);
  if (!journal->has_value()) {
    SB_RETURN_IF_ERROR(RemoveStaging(root, root_fd, -1, registration));
    return std::string("discarded");
  }
  const std::string staging = PathBelow(root, kStagingDirName);
  // What an operator can do when the journal cannot be finished here.
  const std::string give_up = fmt::format(
      "to give the interrupted restore up instead, remove {} and {}: the target then holds part "
      "of the old and part of the new state until a restore of it succeeds",
      staging, registration);
  base::Result<std::vector<JournalOp>> ops =
      ReadJournal(stage.get(), fmt::format("{}/{}", staging, kJournalName));
  if (!ops.ok()) {
    return Status(ops.status().code(),
                  fmt::format("{}; the journal of a committed restore is damaged, so it cannot be "
                              "finished; {}",
                              ops.status().message(), give_up));
  }
  ApplyResult applied = ApplyJournal(root, root_fd, stage.get(), *ops);
  if (applied.retryable()) {
    // A full disk, a failing device: another attempt may finish it.
    return Status::IoError(fmt::format(
        "the interrupted restore of {} was committed, but {}; its journal is kept and applied "
        "again at the next restore of the target or the agent's next start: fix the cause, or, {}",
        root, applied.Summary(), give_up));
  }
  SB_RETURN_IF_ERROR(RemoveStaging(root, root_fd, stage.get(), registration));
  if (!applied.ok()) {
    // These changes can never apply to the target as it is: finished
    // without them, so the next restore, planned from what is there now,
    // brings the target to the backup's state.
    return fmt::format(
        "rolled forward, but {} (the target differs from the backup there until "
        "a restore succeeds)",
        applied.Summary());
  }
  return std::string("rolled forward");
}

// A restore holds an flock(2) of its target directory for its whole life.
// Without it, another process restoring the same target (a second agent
// started by hand beside the service, or one with another state_dir whose
// data_roots overlap) would take this restore's staging area for a crashed
// one and remove it. The kernel drops the lock when the agent dies, so
// recovery after a crash is never kept out.
Status LockTarget(int root_fd, const std::string& root) {
  Status s = base::TryLock(root_fd, root);
  if (s.code() != base::Code::kUnavailable) return s;
  return Status::Unavailable(fmt::format(
      "{} is being restored by another process (another standby-agent?); its restore is left "
      "alone",
      root));
}

base::Status Register(const std::string& registration, const std::string& root) {
  SB_RETURN_IF_ERROR(base::MakeDirectories(registration.substr(0, registration.rfind('/')), 0700));
  return base::WriteFileAtomically(registration, root, 0600);
}

}  // namespace

StagedRestore::StagedRestore(std::string root, std::string state_dir, UniqueFd root_fd,
                             UniqueFd stage_fd)
    : root_(std::move(root)),
      state_dir_(std::move(state_dir)),
      root_fd_(std::move(root_fd)),
      stage_fd_(std::move(stage_fd)),
      signatures_(state_dir_, root_) {}

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
  base::Result<std::string> existing = base::NearestExisting(root);
  if (!existing.ok()) return existing.status();
  std::vector<std::string> made;
  for (std::string dir = root; dir.size() > existing->size(); dir = dir.substr(0, dir.rfind('/'))) {
    made.push_back(dir);
  }
  SB_RETURN_IF_ERROR(base::MakeDirectories(root, 0755));
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid()) return Status::FromErrno(root, errno);
  SB_RETURN_IF_ERROR(LockTarget(root_fd.get(), root));
  const std::string registration = RegistrationPath(state_dir, root);
  base::Result<std::string> r = Recover(root, root_fd.get(), registration);
  if (!r.ok()) return r.status().WithContext("recovering an interrupted restore");
  *recovered = *r;
  UntouchedTimes untouched{*existing, {}};
  struct stat st;
  if (::lstat(existing->c_str(), &st) != 0) return Status::FromErrno(*existing, errno);
  untouched.times[0] = st.st_atim;
  untouched.times[1] = st.st_mtim;
  SB_RETURN_IF_ERROR(Register(registration, root));
  const std::string stage_name(kStagingDirName);
  if (::mkdirat(root_fd.get(), stage_name.c_str(), 0700) != 0) {
    return Status::FromErrno(PathBelow(root, stage_name), errno);
  }
  UniqueFd stage_fd(
      ::openat(root_fd.get(), stage_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!stage_fd.valid()) return Status::FromErrno(PathBelow(root, stage_name), errno);
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
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(base::Quote(path, kMaxPathBytes + 1)));
  if (!paths_.emplace(path).second) {
    return Status::Invalid(fmt::format("{}: named twice in one restore", PathBelow(root_, path)));
  }
  return Status::Ok();
}

Status StagedRestore::Signature(std::string_view path, const ByteSink& out) {
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(base::Quote(path, kMaxPathBytes + 1)));
  base::Result<UniqueFd> fd = OpenBeneath(root_fd_.get(), path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) return fd.status().WithContext(root_);
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(PathBelow(root_, path), errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::Invalid(fmt::format("{}: not a regular file", PathBelow(root_, path)));
  }
  std::optional<std::string> sig = signatures_.Find(cache_, path, st);
  if (!sig) {
    sig.emplace();
    SB_RETURN_IF_ERROR(MakeSignature(static_cast<uint64_t>(st.st_size), FdSource(fd->get()),
                                     StringSink(&*sig), NewSignatureSeed())
                           .WithContext(PathBelow(root_, path)));
  }
  for (std::string_view rest = *sig; !rest.empty();) {
    std::string_view piece = rest.substr(0, size_t{256} * 1024);
    SB_RETURN_IF_ERROR(out(piece));
    rest.remove_prefix(piece.size());
  }
  // Kept for the file's staging: its sums serve the blocks that stay.
  served_[std::string(path)] = std::move(*sig);
  return Status::Ok();
}

Status StagedRestore::StageFile(std::string_view path, bool delta, const ByteSource& data,
                                uint64_t size, std::string_view sha256, const FileMeta& meta) {
  if (sha256.size() != 64 ||
      sha256.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Status::Invalid(fmt::format("{}: the declared SHA-256 {} is not 64 hex digits",
                                       PathBelow(root_, base::Printable(path, kMaxPathBytes + 1)),
                                       base::Quote(sha256, 70)));
  }
  SB_RETURN_IF_ERROR(CheckNew(path));
  const std::string where = PathBelow(root_, path);
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
      previous = signatures_.Find(cache_, path, basis_st).value_or("");
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
  std::optional<SignatureBuilder> signature;  // for the next restore's delta
  if (size >= signatures_from_) {
    const uint64_t seed = SignatureSeed(previous).value_or(NewSignatureSeed());
    signature.emplace(size, seed, std::move(previous));
  }
  ByteSink hash = [&](std::string_view bytes) {
    sha.Update(bytes.data(), bytes.size());
    return signature ? signature->Add(bytes) : Status::Ok();
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
    std::string buf(size_t{256} * 1024, '\0');
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
  if (signature) {
    base::Result<std::string> sig = signature->Finish();
    if (sig.ok()) {
      signatures_.Keep(sha256, *sig, where);
    } else {
      spdlog::warn("signature of {} not kept: {}", where, sig.status().message());
    }
  }
  CrashPoint();
  if (patch) {
    // The commit patches this very file: it must still be as it is now.
    patch_basis_[std::string(path)] = CachedHash::Of(basis_st, Digest());
    ops_.push_back(JournalOp::Patch(path, staged, meta, sha256));
  } else {
    ops_.push_back(JournalOp::PutFile(path, staged, meta, sha256));
  }
  return Status::Ok();
}

Status StagedRestore::StageSymlink(std::string_view path, std::string_view target,
                                   const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  SB_RETURN_IF_ERROR(CheckSymlinkTarget(target).WithContext(PathBelow(root_, path)));
  const std::string staged = fmt::format("l{}", next_name_++);
  if (::symlinkat(std::string(target).c_str(), stage_fd_.get(), staged.c_str()) != 0) {
    return Status::FromErrno(PathBelow(root_, path), errno);
  }
  SB_RETURN_IF_ERROR(SetMetaSymlink(stage_fd_.get(), staged, meta, PathBelow(root_, path)));
  CrashPoint();
  ops_.push_back(JournalOp::PutSymlink(path, staged, meta));
  return Status::Ok();
}

Status StagedRestore::AddDirectory(std::string_view path, const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  ops_.push_back(JournalOp::Mkdir(path, meta));
  return Status::Ok();
}

Status StagedRestore::AddHardlink(std::string_view path, std::string_view to) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  SB_RETURN_IF_ERROR(CheckRestorePath(to).WithContext(
      fmt::format("hard link {}", base::Quote(path, kMaxPathBytes + 1))));
  ops_.push_back(JournalOp::Link(path, to));
  return Status::Ok();
}

Status StagedRestore::AddMetadata(std::string_view path, const FileMeta& meta) {
  SB_RETURN_IF_ERROR(CheckNew(path));
  ops_.push_back(JournalOp::Meta(path, meta));
  return Status::Ok();
}

Status StagedRestore::AddDelete(std::string_view path, NodeType type) {
  // A path may be deleted and then created anew (its type changes).
  if (committed_) return Status::FailedPrecondition("the restore is already committed");
  SB_RETURN_IF_ERROR(CheckRestorePath(path).WithContext(base::Quote(path, kMaxPathBytes + 1)));
  ops_.push_back(JournalOp::Delete(path, type));
  return Status::Ok();
}

// The journal, durable in the staging directory under its final name: the
// commit point.
Status StagedRestore::WriteJournal() {
  const std::string where = fmt::format("{}/{}/journal", root_, kStagingDirName);
  {
    UniqueFd fd(::openat(stage_fd_.get(), "journal.tmp",
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return Status::FromErrno(where, errno);
    SB_RETURN_IF_ERROR(EncodeJournal(ops_, FdSink(fd.get())).WithContext(where));
    if (::fsync(fd.get()) != 0) return Status::FromErrno(where, errno);
  }
  CrashPoint();
  if (::renameat(stage_fd_.get(), "journal.tmp", stage_fd_.get(), kJournalName) != 0 ||
      ::fsync(stage_fd_.get()) != 0) {
    return Status::FromErrno(where, errno);
  }
  return Status::Ok();
}

// The new state's manifest (its entries and digest into *result) and hash
// cache, saved to `cache_path`; the signatures of contents no longer held
// are pruned. The files the commit wrote have known hashes, unless a change
// failed (`all_applied` false: a file then may not hold what its change
// says).
Status StagedRestore::ScanCommitted(bool all_applied, const std::string& cache_path,
                                    CommitResult* result) {
  for (const JournalOp& op : ops_) {
    if (!all_applied) break;
    if ((op.kind != OpKind::kPut && op.kind != OpKind::kPatch) || op.type != NodeType::kFile) {
      continue;
    }
    std::string name;
    base::Result<UniqueFd> parent = OpenParentBeneath(root_fd_.get(), op.path, &name);
    if (!parent.ok()) continue;
    base::Result<std::optional<struct stat>> st = StatAt(parent->get(), name);
    if (st.ok() && st->has_value()) {
      cache_.Put(op.path, CachedHash::Of(**st, Digest::FromHex(op.sha256), cache_.rotation().pass));
    }
  }
  // The target holds at most what it held, and what the commit made: its
  // files are in the cache now; its directories, symlinks and links not.
  size_t expected = cache_.size() + cache_.others().size();
  for (const JournalOp& op : ops_) {
    if (op.kind == OpKind::kMkdir || op.kind == OpKind::kLink ||
        (op.kind == OpKind::kPut && op.type != NodeType::kFile)) {
      ++expected;
    }
  }
  // The changes are applied and their hashes taken: freed before the scan,
  // which holds every entry of the target (at 100,000 changes these took a
  // third of the agent's peak).
  std::vector<JournalOp>().swap(ops_);
  patch_basis_.clear();
  // The new baseline: every entry, the files written now counted as read
  // at this pass, the others keeping the pass of their last read. Made in
  // the old one's place: the files the scan found unchanged stay, those it
  // recorded (changed, new) are put, its directories and symlinks replace
  // the old ones.
  HashCache fresh;
  fresh.set_full_baseline(true);
  std::vector<bool> unchanged;
  ScanOptions scan;
  scan.cache = &cache_;
  scan.record = &fresh;
  scan.unchanged = &unchanged;
  scan.pass = cache_.rotation().pass;
  scan.hashed_bytes = &result->hashed_bytes;
  scan.expected_entries = expected;
  base::Result<std::vector<ManifestEntry>> after = ScanTree(root_, scan);
  if (!after.ok()) return after.status().WithContext("scanning the target after the commit");
  result->entries = after->size();
  result->digest = ManifestDigest(*after);
  after = std::vector<ManifestEntry>();
  cache_.KeepOnly(unchanged);
  cache_.Absorb(std::move(fresh));
  Status saved = cache_.Save(cache_path);
  if (!saved.ok()) spdlog::warn("hash cache of {} not saved: {}", root_, saved.message());
  signatures_.Prune(cache_, signatures_from_);
  return Status::Ok();
}

base::Result<CommitResult> StagedRestore::Commit() {
  if (committed_) return Status::FailedPrecondition("the restore is already committed");
  JournalTarget target{root_, root_fd_.get(), &patch_basis_, std::nullopt};
  // The times the filesystem stores, probed in the staging area (a file of
  // its own there if the filesystem has no O_TMPFILE).
  base::Result<TimeRange> times = ProbeTimeRange(stage_fd_.get(), "timeprobe");
  if (times.ok()) target.times = *times;
  SB_RETURN_IF_ERROR(CheckJournal(target, ops_));
  // The cache describes the old state; drop it before the first change, but
  // keep it in memory to spare hashing the unchanged files afterwards.
  const std::string cache_path = HashCache::PathFor(state_dir_, root_);
  SB_RETURN_IF_ERROR(HashCache::Remove(cache_path));
  SB_RETURN_IF_ERROR(base::SyncFilesystem(root_fd_.get(), root_));  // all staged data durable
  CrashPoint();

  SB_RETURN_IF_ERROR(WriteJournal());
  committed_ = true;  // from here on, a restart rolls forward
  // Nothing more is staged: what staging kept to check each new path and
  // serve each delta goes.
  paths_.clear();
  served_.clear();
  CrashPoint();
  ApplyResult applied = ApplyJournal(root_, root_fd_.get(), stage_fd_.get(), ops_);
  if (applied.retryable()) {
    return Status::IoError(fmt::format(
        "{}: {}; the journal is kept and applied again at the next restore of the target or the "
        "agent's next start",
        root_, applied.Summary()));
  }
  CrashPoint();

  CommitResult result;
  result.changes = ops_.size();
  for (const Status& failed : applied.failed) result.unapplied.push_back(failed.message());
  SB_RETURN_IF_ERROR(ScanCommitted(applied.ok(), cache_path, &result));
  CrashPoint();
  SB_RETURN_IF_ERROR(
      RemoveStaging(root_, root_fd_.get(), stage_fd_.get(), RegistrationPath(state_dir_, root_)));
  return result;
}

std::vector<std::string> StagedRestore::RecoverAll(const std::string& state_dir) {
  std::vector<std::string> lines;
  const std::string dir = state_dir + "/restores";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    // Each target's staging area is looked at again by its RestoreBegin.
    if (errno != ENOENT) {
      lines.push_back(fmt::format("restore registry {} NOT read: {}", dir, std::strerror(errno)));
    }
    return lines;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && !n.ends_with(".tmp")) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string registration = PathBelow(dir, n);
    base::Result<std::string> root = base::ReadFile(registration, 8192);
    if (!root.ok() || root->empty() || root->front() != '/') {
      lines.push_back(fmt::format("registration {} unreadable, ignored: {}", registration,
                                  root.ok() ? "not an absolute path" : root.status().message()));
      continue;
    }
    base::Result<ActiveRoot> claim = ActiveRoot::Claim(*root);
    if (!claim.ok()) {
      lines.push_back(fmt::format("interrupted restore of {} NOT recovered: {}", *root,
                                  claim.status().message()));
      continue;
    }
    UniqueFd root_fd(::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_fd.valid()) {
      if (errno != ENOENT) {
        lines.push_back(fmt::format("interrupted restore of {} NOT recovered: {}", *root,
                                    std::strerror(errno)));
        continue;
      }
      ::unlink(registration.c_str());
      continue;
    }
    if (Status locked = LockTarget(root_fd.get(), *root); !locked.ok()) {
      lines.push_back(
          fmt::format("interrupted restore of {} NOT recovered: {}", *root, locked.message()));
      continue;
    }
    base::Result<std::string> r = Recover(*root, root_fd.get(), registration);
    if (!r.ok()) {
      // Left as it is, the message saying what to do: a restore of this
      // target fails the same way until then; the agent serves the others.
      lines.push_back(
          fmt::format("interrupted restore of {} NOT recovered: {}", *root, r.status().message()));
      continue;
    }
    if (!r->empty()) lines.push_back(fmt::format("interrupted restore of {} {}", *root, *r));
  }
  return lines;
}

}  // namespace sb::sync
