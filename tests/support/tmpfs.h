// A tmpfs mounted on a directory for one test, for the faults a small
// filesystem produces on demand (no space, no inodes). Mounting needs root;
// a test that cannot mount says so and skips itself.

#ifndef TESTS_SUPPORT_TMPFS_H_
#define TESTS_SUPPORT_TMPFS_H_

#include <string>

namespace sb::testing {

class Tmpfs {
 public:
  // Mounts a tmpfs with `options` ("size=1m,nr_inodes=8") on `path`, an
  // existing directory. mounted() says whether it worked.
  Tmpfs(std::string path, const std::string& options);
  // Unmounts, however the test ends.
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_TMPFS_H_
