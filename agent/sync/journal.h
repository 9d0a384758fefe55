// The commit journal of a staged restore (staged_restore.h): every change a
// commit makes to its target, written into the staging area and fsynced
// before the first change (its rename to kJournalName is the commit point),
// and applied again after a crash anywhere in the commit. Also the format of
// a staged patch, which applying the journal writes into its file.
//
// A journal is CBOR: {version: 1, ops: [[kind, path, staged, link_to, type,
// mode, mtime_ns, uid, gid, sha256], ...]}. One a crash left behind is input
// like any other: decoding checks its shape and every path before anything
// is applied. Thread-safe (no shared state).

#ifndef AGENT_SYNC_JOURNAL_H_
#define AGENT_SYNC_JOURNAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/file_meta.h"
#include "agent/sync/manifest.h"

namespace sb::sync {

// The journal's name in the staging directory.
inline constexpr char kJournalName[] = "journal";

// A staged patch: this, the new size (u64), then pieces: offset (u64),
// length (u32), bytes. Integers big-endian.
inline constexpr std::string_view kPatchMagic = "SBPT";

enum class OpKind : int { kDelete = 0, kMkdir = 1, kPut = 2, kLink = 3, kMeta = 4, kPatch = 5 };

struct JournalOp {
  // One constructor per operation, naming what it carries.
  static JournalOp Delete(std::string_view path, NodeType type);
  static JournalOp Mkdir(std::string_view path, const FileMeta& meta);
  static JournalOp PutFile(std::string_view path, std::string_view staged, const FileMeta& meta,
                           std::string_view sha256);
  static JournalOp PutSymlink(std::string_view path, std::string_view staged, const FileMeta& meta);
  static JournalOp Patch(std::string_view path, std::string_view staged, const FileMeta& meta,
                         std::string_view sha256);
  static JournalOp Link(std::string_view path, std::string_view to);
  static JournalOp Meta(std::string_view path, const FileMeta& meta);

  OpKind kind = OpKind::kMeta;
  std::string path;
  std::string staged;               // kPut, kPatch: the name in the staging directory
  std::string link_to;              // kLink
  NodeType type = NodeType::kFile;  // kDelete: what is deleted; kPut: what is put
  FileMeta meta;
  std::string sha256;  // kPut files, kPatch
};

// Hands the journal of `ops` to `write` in pieces of about 256 KiB, in
// order, and returns the first failure of `write`. The bytes are those
// nlohmann's to_cbor makes of {"ops": [...], "version": 1} (a test pins
// that), made entry by entry: no tree of the whole journal is held, which
// at 100,000 changes had cost more memory than the changes themselves.
base::Status EncodeJournal(const std::vector<JournalOp>& ops,
                           const std::function<base::Status(std::string_view piece)>& write);
// The same, whole.
std::string EncodeJournal(const std::vector<JournalOp>& ops);
// kCorruption, naming `where`, for anything but a well-formed journal whose
// paths are all restore paths.
base::Result<std::vector<JournalOp>> DecodeJournal(std::string_view bytes,
                                                   const std::string& where);
// Reads and decodes the journal in the staging directory `stage_fd`.
base::Result<std::vector<JournalOp>> ReadJournal(int stage_fd, const std::string& where);

// Writes the pieces of the staged patch `patch_fd` into `target_fd` at their
// offsets; `*size` (if given) gets the new file's size the patch declares.
base::Status ReplayPatch(int patch_fd, int target_fd, uint64_t* size);

// What applying a journal did: the changes that failed, each naming its
// path (none: all were applied).
struct ApplyResult {
  size_t total = 0;  // changes in the journal
  std::vector<base::Status> failed;

  bool ok() const { return failed.empty(); }
  // Whether applying again may succeed where this attempt failed: one of
  // the failures is an I/O error (a full disk, a failing device). Otherwise
  // they are for good: the target as it is can never take those changes.
  bool retryable() const;
  // "2 of its 40 changes could not be applied: ...", the first three named.
  std::string Summary() const;
};

// Applies `ops` to the target `root` (open as `root_fd`), taking staged
// content from `stage_fd`: deletes (deepest first; only entries still of the
// type noted), new directories (parents first), renames of staged files and
// symlinks, patches, hard links, metadata (deepest first), then syncfs.
// Every change is tried, also after one failed, so the target gets as close
// to the new state as it can. Safe to run again from the start after a
// crash at any point: each step checks whether it is already done.
ApplyResult ApplyJournal(const std::string& root, int root_fd, int stage_fd,
                         const std::vector<JournalOp>& ops);

}  // namespace sb::sync

#endif  // AGENT_SYNC_JOURNAL_H_
