// The check a commit makes before it writes its journal: that applying the
// journal (journal.h) to the target as it is now cannot fail. Once the
// journal is renamed into place the restore is committed, and a change that
// then failed would leave the target half old, half new; so everything that
// can be known beforehand is checked here, and the commit refuses with
// nothing changed:
//
//   - every directory a change lands in is a real directory (never a
//     symlink) that this restore keeps or makes;
//   - nothing this restore keeps is in the way of a new entry (a directory
//     where a file goes, a file where a directory goes);
//   - a hard link names a file that will be a regular file when the link is
//     made, never a directory or a symlink, and no file gets more links than
//     the filesystem allows;
//   - a metadata change names an entry that will exist, and an agent that is
//     not root owns every entry whose mode and time it must set;
//   - a file patched in place is still the very file the patch was made
//     against, and the agent can open it for writing;
//   - every time the journal sets is one the filesystem stores;
//   - the filesystem has an inode for every entry the journal makes.
//
// What cannot be known beforehand (an I/O error, another writer) can still
// fail a change after the commit point; journal.h says what happens then.
// One thread.

#ifndef AGENT_SYNC_JOURNAL_CHECK_H_
#define AGENT_SYNC_JOURNAL_CHECK_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/journal.h"
#include "agent/sync/target_fs.h"

namespace sb::sync {

struct JournalTarget {
  std::string root;  // for messages
  int root_fd = -1;
  // Files to be patched in place, as they were when their patch was staged.
  const std::map<std::string, CachedHash>* patch_basis = nullptr;
  // The times the target's filesystem stores; nullopt: not known.
  std::optional<TimeRange> times;
};

// Ok when `ops`, applied in ApplyJournal's order, cannot fail on what the
// target holds now; otherwise the first problem, naming the path.
base::Status CheckJournal(const JournalTarget& target, const std::vector<JournalOp>& ops);

}  // namespace sb::sync

#endif  // AGENT_SYNC_JOURNAL_CHECK_H_
