// An ext4 filesystem in an image file, on a loop device, mounted on a
// directory for one test: a real disk the test can reach under the
// filesystem, to flip a byte of a file's data while the filesystem is
// unmounted (what bit rot on a cold disk does). Needs root, a free loop
// device, mkfs.ext4 and debugfs; a test that cannot have one says why and
// skips itself.

#ifndef TESTS_SUPPORT_LOOP_FS_H_
#define TESTS_SUPPORT_LOOP_FS_H_

#include <cstdint>
#include <string>

namespace sb::testing {

class LoopFs {
 public:
  // Makes an image of `mib` MiB under `dir` and mounts it on `mount_point`
  // (an existing directory). ready() says whether it worked; skip_reason()
  // why not.
  LoopFs(const std::string& dir, const std::string& mount_point, int mib);
  // Unmounts and detaches its own loop device, however the test ends.
  ~LoopFs();
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;

  bool ready() const { return ready_; }
  const std::string& skip_reason() const { return skip_reason_; }

  // Unmounts (the page cache of its files goes with it) and mounts again.
  bool Unmount();
  bool Mount();

  // XORs the byte at `offset` of the file `path` (relative to the
  // filesystem's root) with 0xff, through the block device, while the
  // filesystem is unmounted: no inode, size or time changes. False, with
  // *why, when it cannot.
  bool FlipByte(const std::string& path, uint64_t offset, std::string* why);

 private:
  std::string image_, mount_point_, device_;
  bool ready_ = false, mounted_ = false;
  std::string skip_reason_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_LOOP_FS_H_
