// Test support: a small backup tree as the restore tests use it: nested files
// with different modes, an empty directory, a symlink and a 100 KB file.

#ifndef TESTS_SUPPORT_BACKUP_TREE_H_
#define TESTS_SUPPORT_BACKUP_TREE_H_

#include <string>

#include "tests/support/temp_dir.h"

namespace sb::testing {

// Creates the tree in dir/`name`: www/index.html, www/app/config.ini (0600),
// data.bin (100,000 bytes), empty/ (0750) and current -> www/index.html.
void MakeBackupTree(const TempDir& dir, const std::string& name = "src");

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_BACKUP_TREE_H_
