#include "tests/support/loop_fs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <sstream>

#include "agent/base/subprocess.h"

namespace sb::testing {
namespace {

// Runs argv; the reason it failed, or "" on success. *out gets stdout.
std::string Run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  base::ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::seconds(60);
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  if (!r.ok()) return r.status().message();
  if (!r->success()) return argv[0] + ": " + r->Describe() + ": " + r->err;
  if (out != nullptr) *out = r->out;
  return "";
}

}  // namespace

LoopFs::LoopFs(const std::string& dir, const std::string& mount_point, int mib)
    : image_(dir + "/disk.img"), mount_point_(mount_point) {
  if (::geteuid() != 0) {
    skip_reason_ = "not root";
    return;
  }
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    skip_reason_ = "no loop device (/dev/loop-control)";
    return;
  }
  std::string why = Run({"truncate", "-s", std::to_string(mib) + "M", image_});
  // 4 KiB blocks; no lazy init threads writing behind the test's back.
  if (why.empty()) {
    why = Run({"mkfs.ext4", "-q", "-F", "-b", "4096", "-E",
               "lazy_itable_init=0,lazy_journal_init=0", image_});
  }
  std::string device;
  if (why.empty()) why = Run({"losetup", "--find", "--show", image_}, &device);
  if (!why.empty()) {
    skip_reason_ = "no loop device: " + why;
    return;
  }
  while (!device.empty() && device.back() == '\n') device.pop_back();
  device_ = device;
  ready_ = Mount();
  if (!ready_) skip_reason_ = "no loop device: mounting " + device_ + " failed";
}

LoopFs::~LoopFs() {
  Unmount();
  if (!device_.empty()) Run({"losetup", "--detach", device_});
}

bool LoopFs::Unmount() {
  if (!mounted_) return true;
  if (::umount2(mount_point_.c_str(), 0) != 0) return false;
  mounted_ = false;
  return true;
}

bool LoopFs::Mount() {
  if (mounted_) return true;
  mounted_ = ::mount(device_.c_str(), mount_point_.c_str(), "ext4", 0, "") == 0;
  return mounted_;
}

bool LoopFs::FlipByte(const std::string& path, uint64_t offset, std::string* why) {
  if (mounted_) {
    *why = "the filesystem is mounted";
    return false;
  }
  // The file's physical blocks, from debugfs on the unmounted filesystem.
  std::string blocks;
  std::string failed = Run({"debugfs", "-R", "blocks /" + path, device_}, &blocks);
  if (!failed.empty()) {
    *why = failed;
    return false;
  }
  std::istringstream in(blocks);
  std::vector<uint64_t> list;
  for (uint64_t b = 0; in >> b;) list.push_back(b);
  const uint64_t block_size = 4096;
  if (offset / block_size >= list.size()) {
    *why = "debugfs lists " + std::to_string(list.size()) + " blocks for " + path;
    return false;
  }
  const off_t at = static_cast<off_t>(list[offset / block_size] * block_size + offset % block_size);
  int fd = ::open(device_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    *why = "cannot open " + device_;
    return false;
  }
  unsigned char byte = 0;
  bool ok = ::pread(fd, &byte, 1, at) == 1;
  byte ^= 0xff;
  ok = ok && ::pwrite(fd, &byte, 1, at) == 1 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) *why = "cannot write " + device_;
  return ok;
}

}  // namespace sb::testing
