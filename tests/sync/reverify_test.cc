// The rotation of re-reads (agent/sync/reverify.h) on real files: which
// files each pass reads, that a rotation reads each file exactly once, the
// budget, and corruption found through the filesystem seam (the cache's key
// set to the file's new stat, as if the bytes had changed under an
// unchanged stat; the loop-device test in restore/verify_test.cc does it
// for real).

#include "agent/sync/reverify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "agent/sync/drift.h"
#include "agent/sync/manifest.h"
#include "agent/sync/tree_scan.h"
#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using sb::testing::TempDir;

// A target and its baseline: the first restore wrote every file at pass 1.
struct Target {
  TempDir dir;
  HashCache baseline;

  explicit Target(int files, size_t base_size = 1000) {
    for (int i = 0; i < files; ++i) {
      dir.Write(
          "t/d" + std::to_string(i % 3) + "/f" + std::to_string(i),
          std::string(base_size + static_cast<size_t>(i) * 37, static_cast<char>('a' + i % 26)));
    }
    ScanOptions first;
    first.record = &baseline;
    first.pass = 1;
    REQUIRE(ScanTree(dir.Sub("t"), first).ok());
    baseline.rotation().pass = 1;
  }

  // One verifying pass, as the agent's scan makes it.
  VerifyReport Pass(const VerifyPolicy& policy) {
    std::vector<size_t> reused;
    ScanOptions scan;
    scan.cache = &baseline;
    scan.pass = baseline.rotation().pass + 1;  // Reverify advances it
    scan.reused = &reused;
    base::Result<std::vector<ManifestEntry>> entries = ScanTree(dir.Sub("t"), scan);
    REQUIRE(entries.ok());
    base::UniqueFd fd(::open(dir.Sub("t").c_str(), O_RDONLY | O_DIRECTORY));
    base::Result<VerifyReport> r =
        Reverify(fd.get(), dir.Sub("t"), *entries, reused, baseline, policy, 1000);
    INFO(r.status().message());
    REQUIRE(r.ok());
    return *r;
  }
};

TEST_CASE("reverify: a rotation reads every file exactly once, and the next one again",
          "[reverify]") {
  Target t(24);
  VerifyPolicy policy;
  policy.every = 4;
  std::map<std::string, std::vector<uint64_t>> reads;  // path -> passes
  for (int i = 0; i < 8; ++i) {
    VerifyReport r = t.Pass(policy);
    for (const std::string& p : r.read_paths) reads[p].push_back(r.pass);
    CHECK(r.corrupt.empty());
    CHECK_FALSE(r.stretched);
    // Every pass reads about a quarter, never everything at once.
    CHECK(r.reread_files >= 4);
    CHECK(r.reread_files <= 8);
    if (r.pass == 5 || r.pass == 9) {
      CHECK(r.rotation.done_end == r.pass);
      CHECK(r.oldest_pass == r.pass - 3);
      CHECK(r.never_files == 0);
    }
  }
  REQUIRE(reads.size() == 24);
  for (const auto& [path, passes] : reads) {
    INFO(path);
    // Passes 2-5 are the first rotation, 6-9 the second: once in each.
    REQUIRE(passes.size() == 2);
    CHECK(passes[0] >= 2);
    CHECK(passes[0] <= 5);
    CHECK(passes[1] >= 6);
    CHECK(passes[1] <= 9);
    // Oldest first: no file waits more than `every` passes.
    CHECK(passes[1] - passes[0] <= 4);
  }
}

TEST_CASE("reverify: every = 1 reads every file on every pass", "[reverify]") {
  Target t(5);
  VerifyPolicy policy;
  policy.every = 1;
  for (int i = 0; i < 3; ++i) {
    VerifyReport r = t.Pass(policy);
    CHECK(r.reread_files == 5);
    CHECK(r.cached_files == 0);
    CHECK(r.oldest_pass == r.pass);
    CHECK(r.rotation.done_end == r.pass);
  }
}

TEST_CASE("reverify: the budget stretches the rotation and says so", "[reverify]") {
  Target t(12, 1000);  // 12 files of 1,000 to 1,407 bytes
  VerifyPolicy policy;
  policy.every = 2;
  policy.budget = 2000;  // about one file a pass where six are due
  VerifyReport r = t.Pass(policy);
  CHECK(r.stretched);
  CHECK(r.reread_bytes <= 2000);
  CHECK(r.due_bytes > 2000);
  std::set<std::string> read(r.read_paths.begin(), r.read_paths.end());
  int passes = 1;
  for (; passes < 20 && read.size() < 12; ++passes) {
    r = t.Pass(policy);
    CHECK(r.reread_bytes <= 2000);
    for (const std::string& p : r.read_paths) CHECK(read.insert(p).second);  // never twice
  }
  CHECK(read.size() == 12);
  CHECK(passes > 2);  // stretched beyond `every`
  CHECK(r.rotation.done_end == r.pass);

  // A file larger than the whole budget is never read by a pass (the
  // budget holds), but named, and its last read (the write at pass 1)
  // stays the oldest; a full pass reads it.
  Target big(2, 5000);
  VerifyPolicy tiny;
  tiny.every = 1;
  tiny.budget = 5000;
  VerifyReport b = big.Pass(tiny);
  CHECK(b.reread_files == 1);
  CHECK(b.read_paths == std::vector<std::string>{"d0/f0"});
  CHECK(b.too_large_files == 1);
  CHECK(b.over_budget == "d1/f1");
  CHECK(b.oldest_pass == 1);
  tiny.full = true;
  b = big.Pass(tiny);
  CHECK(b.reread_files == 2);
  CHECK(b.oldest_pass == b.pass);
}

TEST_CASE("reverify: bytes changed under an unchanged stat are corrupt, named and not vouched for",
          "[reverify]") {
  Target t(6);
  // The seam: new bytes, then the cache's key set to the file's new stat,
  // which is what the agent sees when the disk changes underneath.
  t.dir.Write("t/d1/f4", std::string(1000 + 4 * 37, 'Z'));
  struct stat st;
  REQUIRE(::stat(t.dir.Sub("t/d1/f4").c_str(), &st) == 0);
  CachedHash* h = t.baseline.FindMutable("d1/f4");
  REQUIRE(h != nullptr);
  const Digest good = h->sha256;
  *h = CachedHash::Of(st, good, h->verified);

  VerifyPolicy full;
  full.full = true;
  VerifyReport r = t.Pass(full);
  CHECK(r.reread_files == 6);
  CHECK(r.corrupt == std::vector<std::string>{"d1/f4"});
  // With the digest of the bytes read back, which the open restore takes.
  Sha256 read;
  const std::string rotten(1000 + 4 * 37, 'Z');
  read.Update(rotten.data(), rotten.size());
  CHECK(r.corrupt_read == std::vector<Digest>{read.Finish()});
  CHECK(t.baseline.Find("d1/f4")->sha256 == good);  // the baseline keeps what was written
  CHECK(t.baseline.Find("d1/f4")->verified == 0);   // first in line next time
  CHECK(r.never_files == 1);
  CHECK(r.rotation.done_end == 0);  // no rotation completes over it

  // Drift names it as corrupt, not modified.
  HashCache now;
  ScanOptions scan;
  scan.record = &now;
  REQUIRE(ScanTree(t.dir.Sub("t"), scan).ok());
  std::vector<Drift> drift = FindDrift(t.baseline, now, r.corrupt);
  REQUIRE(drift.size() == 1);
  CHECK(drift[0].kind == DriftKind::kCorrupt);
  CHECK(drift[0].path == "d1/f4");
}

TEST_CASE("reverify: the selection takes the oldest and the overdue first", "[reverify]") {
  std::vector<VerifyCandidate> c = {
      {"new", 100, 9}, {"old", 100, 2}, {"older", 100, 1}, {"mid", 100, 5}};
  Rotation rotation;
  rotation.cycle_start = 6;
  VerifyPolicy policy;
  policy.every = 4;
  // Pass 6: four passes left in the rotation, three pending files: quota
  // 75 bytes, so the oldest one; "old" (read at 2) is due as well.
  VerifySelection s = SelectForVerify(c, rotation, 6, policy);
  REQUIRE(s.chosen.size() == 2);
  CHECK(c[s.chosen[0]].path == "older");
  CHECK(c[s.chosen[1]].path == "old");
  CHECK_FALSE(s.completes);
  // The rotation's last pass takes everything left.
  s = SelectForVerify(c, rotation, 9, policy);
  CHECK(s.chosen.size() == 3);
  CHECK(s.completes);
}

}  // namespace
}  // namespace sb::sync
