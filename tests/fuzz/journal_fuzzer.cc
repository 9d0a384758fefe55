// libFuzzer target for a commit journal a crash (or someone with the disk)
// left behind: decoded, and, when it decodes, checked against a small real
// target the way a commit checks its own (read-only: nothing is applied).
// Built by scripts/fuzz with clang; not part of the ctest suite.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/sync/journal.h"
#include "agent/sync/journal_check.h"

namespace sbsync = sb::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A target with a file, a directory and a symlink, made once.
  static int root_fd = [] {
    char dir[] = "/tmp/sb-journal-fuzz-XXXXXX";
    if (::mkdtemp(dir) == nullptr) abort();
    const std::string root = dir;
    if (::mkdir((root + "/d").c_str(), 0755) != 0) abort();
    int f = ::open((root + "/d/f").c_str(), O_CREAT | O_WRONLY, 0644);
    if (f < 0) abort();
    ::close(f);
    if (::symlink("d", (root + "/s").c_str()) != 0) abort();
    return ::open(dir, O_RDONLY | O_DIRECTORY);
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sb::base::Result<std::vector<sbsync::JournalOp>> ops = sbsync::DecodeJournal(bytes, "journal");
  if (!ops.ok() || ops->size() > 1000) return 0;
  sbsync::JournalTarget target{"/fuzz", root_fd, nullptr,
                               sbsync::TimeRange{-(1LL << 31), 1LL << 34}};
  (void)sbsync::CheckJournal(target, *ops);
  return 0;
}
