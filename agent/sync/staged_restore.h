// The agent's side of one restore of one target directory, all or nothing.
//
// While staging, nothing in the target changes: new file content (whole, or
// patched from a librsync delta against the current file) and new symlinks
// are written into a staging directory inside the target (kStagingDirName,
// so renames out of it are atomic), each file checked against the size and
// SHA-256 the controller declares; the other changes (directories, hard
// links, metadata, deletes) are only noted.
//
// Commit() then checks that every change can be applied, makes the staged
// data durable (syncfs), and writes and fsyncs a journal of every change
// into the staging directory: that rename is the commit point. It then
// applies the journal (deletes, directories, renames of staged files, hard
// links, metadata deepest first), syncs, and removes the staging directory.
// Every step is idempotent, so applying the journal again after a crash
// anywhere in it ends in the same state.
//
// A restart finds what a crash left: each restore is registered under the
// agent's state_dir while it runs, and RecoverAll() at start rolls a
// journaled one forward and discards an unjournaled one's staging. Either
// way the target is then entirely the old or entirely the new state.
//
// Each staged file's signature is computed from the bytes as they are
// written (a delta's unchanged blocks take the old signature's sums) and kept
// under state_dir (by content), so the next restore's Signature of an
// unchanged file is read, not computed.
//
// One StagedRestore per target at a time in this process; one thread.

#ifndef AGENT_SYNC_STAGED_RESTORE_H_
#define AGENT_SYNC_STAGED_RESTORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include "agent/base/file.h"
#include "agent/base/status.h"
#include "agent/sync/file_meta.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/journal.h"
#include "agent/sync/manifest.h"
#include "agent/sync/rsync_delta.h"
#include "agent/sync/signature_cache.h"

namespace sb::sync {

struct CommitResult {
  size_t changes = 0;  // journaled changes
  // Changes that failed for good after the commit point (another writer in
  // the target, say), one message each: the target then differs from the
  // source there, as its digest shows, until the next restore.
  std::vector<std::string> unapplied;
  size_t entries = 0;         // entries in the target afterwards
  std::string digest;         // ManifestDigest of the target afterwards
  uint64_t hashed_bytes = 0;  // bytes read to compute it (the rest from the hash cache)
};

// Holds a target against restores and verifications of it, or of a
// directory above or below it, in this process while it lives.
struct ActiveRoot {
  std::string root;
  bool held = false;
  // `what` names the holder in the refusal of the next claim.
  static base::Result<ActiveRoot> Claim(const std::string& root, std::string_view what = "restore");
  ActiveRoot() = default;
  ActiveRoot(std::string r, bool h) : root(std::move(r)), held(h) {}
  ActiveRoot(ActiveRoot&& o) noexcept;
  ActiveRoot& operator=(ActiveRoot&&) = delete;
  ~ActiveRoot();
};

class StagedRestore {
 public:
  // Begins a restore of the absolute directory `root` (created if missing).
  // An interrupted earlier restore of it is first recovered; `*recovered`
  // then says how ("rolled forward" or "discarded"), else stays empty.
  // A restore that does not commit changes nothing in the end: what Begin
  // made is removed, and the times it moved are put back.
  static base::Result<std::unique_ptr<StagedRestore>> Begin(const std::string& root,
                                                            const std::string& state_dir,
                                                            std::string* recovered);
  ~StagedRestore();  // discards the staging unless committed

  StagedRestore(const StagedRestore&) = delete;
  StagedRestore& operator=(const StagedRestore&) = delete;

  // Files at least this large get their signature kept at staging, for
  // the next restore's delta; smaller ones, which the controller sends
  // whole, do not (they would cost a write and a file each, and a large
  // tree of small files as many signatures as files). The controller says
  // where its deltas begin (RestoreBegin's signatures_from); one that does
  // not sends files under 64 KiB whole.
  static constexpr uint64_t kDefaultSignaturesFrom = uint64_t{64} * 1024;
  void set_signatures_from(uint64_t bytes) { signatures_from_ = bytes; }

  // The signature of the current file at `path` (kept from its staging, or
  // computed); kept until the file's StageFile, whose new signature reuses
  // its sums.
  base::Status Signature(std::string_view path, const ByteSink& out);

  // Stages the new content of the file at `path`, read from `data`: the file
  // itself, or (delta) a librsync delta against the current file. It must
  // come to `size` bytes with SHA-256 `sha256` (hex).
  base::Status StageFile(std::string_view path, bool delta, const ByteSource& data, uint64_t size,
                         std::string_view sha256, const FileMeta& meta);
  base::Status StageSymlink(std::string_view path, std::string_view target, const FileMeta& meta);
  base::Status AddDirectory(std::string_view path, const FileMeta& meta);
  base::Status AddHardlink(std::string_view path, std::string_view to);
  base::Status AddMetadata(std::string_view path, const FileMeta& meta);
  // Deletes `path` if it is (still) of type `type`; a directory with all of
  // its contents.
  base::Status AddDelete(std::string_view path, NodeType type);

  // Commits: afterwards the target holds the new state, durably.
  base::Result<CommitResult> Commit();

  // At agent start: finishes or discards every restore an earlier run left
  // registered under `state_dir`; one line for the log per target, never a
  // failure of its own. A journal whose changes can never all apply to the
  // target as it is is finished without them (the line names them, and the
  // next restore converges). A target that cannot be recovered (a damaged
  // journal, an I/O error) is left as it is, its line saying what to do:
  // a RestoreBegin of it fails the same way; the other targets are served.
  static std::vector<std::string> RecoverAll(const std::string& state_dir);

  // Whether Commit() passed its commit point: from then on the target holds
  // (some of) the new state, whatever Commit() returned.
  bool committed() const { return committed_; }

  const std::string& root() const { return root_; }
  // The target's hash cache as the last restore left it (empty if none).
  const HashCache& cache() const { return cache_; }
  // The same, for a verifying scan of the target to record its re-reads in.
  HashCache& mutable_cache() { return cache_; }

 private:
  StagedRestore(std::string root, std::string state_dir, base::UniqueFd root_fd,
                base::UniqueFd stage_fd);
  base::Status CheckNew(std::string_view path);
  base::Status WriteJournal();
  base::Status ScanCommitted(bool all_applied, const std::string& cache_path, CommitResult* result);
  void Discard();

  std::string root_;
  std::string state_dir_;
  base::UniqueFd root_fd_;
  base::UniqueFd stage_fd_;
  HashCache cache_;  // the target as the last restore left it
  SignatureCache signatures_;
  uint64_t signatures_from_ = kDefaultSignaturesFrom;
  std::vector<JournalOp> ops_;
  std::set<std::string, std::less<>> paths_;  // every path an op names: no duplicates
  uint64_t next_name_ = 0;
  std::map<std::string, std::string, std::less<>> served_;  // signatures sent, by path
  std::map<std::string, CachedHash> patch_basis_;  // files to patch in place, as staged against
  bool committed_ = false;
  // What Discard() puts back: the directories Begin made for a new target
  // (deepest first), and the times of the one it found (the target, or the
  // directory it was made in).
  std::vector<std::string> made_dirs_;
  struct UntouchedTimes {
    std::string path;
    timespec times[2];  // atime, mtime
  } untouched_;
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_STAGED_RESTORE_H_
