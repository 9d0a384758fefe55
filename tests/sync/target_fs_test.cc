// What a target's filesystem stores, probed without a trace: on the test
// machine's own filesystem (whatever it is) and on a tmpfs, which keeps any
// time.

#include "agent/sync/target_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"
#include "tests/support/tree_compare.h"

namespace sb::sync {
namespace {

using sb::testing::TempDir;
using sb::testing::Tmpfs;

// Whether a real file in `dir` keeps the time `s`.
bool Keeps(const std::string& dir, int64_t s) {
  const std::string path = dir + "/probe";
  base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  REQUIRE(fd.valid());
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(s), 0}};
  struct stat st;
  const bool kept =
      ::futimens(fd.get(), times) == 0 && ::fstat(fd.get(), &st) == 0 && st.st_mtim.tv_sec == s;
  ::unlink(path.c_str());
  return kept;
}

void CheckProbe(const std::string& dir) {
  const testing::TreeOptions with_root{.root = true};
  const std::vector<std::string> before = testing::DescribeTree(dir, with_root);
  base::Result<TargetFs> fs = ProbeTargetFs(dir, true);
  REQUIRE(fs.ok());
  CHECK(fs->free_bytes > 0);
  REQUIRE(fs->times.has_value());
  const TimeRange r = *fs->times;
  INFO("range " << r.min_s << " to " << r.max_s);
  // Not a trace of the probe: no entry, and the directory's times as they were.
  CHECK(testing::DescribeTree(dir, with_root) == before);
  // The ends are exact, as a real file shows.
  CHECK(r.min_s < 0);
  CHECK(r.max_s > 2'000'000'000);
  CHECK(Keeps(dir, std::max<int64_t>(r.min_s, -(int64_t{1} << 61))));
  CHECK(Keeps(dir, std::min<int64_t>(r.max_s, int64_t{1} << 61)));
  if (r.min_s != std::numeric_limits<int64_t>::min()) CHECK_FALSE(Keeps(dir, r.min_s - 1));
  if (r.max_s != std::numeric_limits<int64_t>::max()) CHECK_FALSE(Keeps(dir, r.max_s + 1));
}

TEST_CASE("target fs: the probed time range is exactly what a file keeps, and leaves no trace",
          "[sync]") {
  TempDir dir;
  dir.Write("existing.txt", "x");
  CheckProbe(dir.path());
}

TEST_CASE("target fs: a tmpfs keeps any time", "[sync]") {
  TempDir dir;
  Tmpfs tmpfs(dir.path(), "size=1m");
  if (!tmpfs.mounted()) {
    WARN("not run: mounting a tmpfs needs root");
    return;
  }
  CheckProbe(dir.path());
  base::Result<TargetFs> fs = ProbeTargetFs(dir.path(), true);
  REQUIRE(fs.ok());
  CHECK(fs->times->Contains(-(int64_t{1} << 40)));
  CHECK(fs->free_bytes <= 1 << 20);
}

TEST_CASE("target fs: a time outside the range is refused with both figures", "[sync]") {
  const TimeRange ext4{-2147483648, 15032385535};
  CHECK(CheckStorableTime("x", 0, ext4).ok());
  CHECK(CheckStorableTime("x", 15032385535, ext4).ok());
  CHECK(CheckStorableTime("\"old.txt\"", -2208988800, ext4).message() ==
        "\"old.txt\": its time 1900-01-01T00:00:00Z cannot be stored by the target's "
        "filesystem, which keeps 1901-12-13T20:45:52Z to 2446-05-10T22:38:55Z (it would be "
        "clamped, and the target would differ from the backup)");
  CHECK(FormatUtcSeconds(int64_t{1} << 60) == "@1152921504606846976");
}

}  // namespace
}  // namespace sb::sync
