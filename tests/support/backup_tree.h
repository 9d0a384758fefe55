// Test support: backup trees as the restore tests use them.

#ifndef TESTS_SUPPORT_BACKUP_TREE_H_
#define TESTS_SUPPORT_BACKUP_TREE_H_

#include <string>

#include "tests/support/temp_dir.h"

namespace sb::testing {

// Creates the tree in dir/`name`: www/index.html, www/app/config.ini (0600),
// data.bin (100,000 bytes), empty/ (0750) and current -> www/index.html.
void MakeBackupTree(const TempDir& dir, const std::string& name = "src");

// Runs a shell script (sh -e); fails the test unless it exits 0.
void Sh(const std::string& script);

// Every entry's mtime to whole seconds (GNU tar's default format keeps no
// more): with `spread`, distinct per path in the past; without, the entries
// changed in the last hour are moved an hour back (rsync compares times to
// the second, so it would not set the time of an entry it made in the second
// the source's entry has).
void WholeSecondTimes(const std::string& root, bool spread);

// Last month's backup in dir/old: nested files with several modes and an
// owner (needs root), a name with a space and UTF-8, a 300 KB file, an empty
// directory, a symlink, a hard link, and entries whose type will change.
void MakeOldTree(const TempDir& dir);

// This month's backup in dir/src: old plus edits of every kind (small and
// large content, a deleted directory, each type change, a mode, new nested
// directories, a new hard link, a new owner).
void MakeNewTree(const TempDir& dir);

// Writes to `path`, with Python's tarfile (which writes what GNU tar
// refuses to), an archive with one entry a restore must refuse: `kind` is
// one of hardlink-etc, hardlink-later, device, symlink-then-file, dotdot,
// twice, file-then-dir, dot-slash, hardlink-dir, hardlink-symlink,
// hardlink-self, long-name, staging, long-symlink. Fails the test on an
// unknown kind.
void CraftArchive(const std::string& path, const std::string& kind);

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_BACKUP_TREE_H_
