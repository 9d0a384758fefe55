// Test support: what a directory tree holds, as a restore promises to
// reproduce it (paths, types, permission bits, mtimes to the nanosecond,
// owners, contents, symlink targets, which files are hard links of each
// other), in a form two trees can be compared by: one line per entry.

#ifndef TESTS_SUPPORT_TREE_COMPARE_H_
#define TESTS_SUPPORT_TREE_COMPARE_H_

#include <string>
#include <vector>

namespace sb::testing {

struct TreeOptions {
  bool mtimes = true;      // compare modification times (directories' too)
  bool owners = true;      // compare uid and gid
  bool hard_links = true;  // compare which names share an inode
  // Describe the root itself too, as ".", and a missing root as ". missing":
  // what a refused restore must not change either.
  bool root = false;
};

// Sorted lines, one per entry below `root` (and root itself with
// options.root); a staging directory is included, so a leftover one shows.
// Throws on a read error.
std::vector<std::string> DescribeTree(const std::string& root, const TreeOptions& options = {});

// The lines only one of the two trees has, "-" for `a`, "+" for `b`;
// empty when the trees are equal.
std::string TreeDifference(const std::string& a, const std::string& b,
                           const TreeOptions& options = {});

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_TREE_COMPARE_H_
