// Re-reading the standby's bytes end to end, with the real standbyctl and
// agent: bit rot made for real on an ext4 filesystem on a loop device (a
// byte of a file's data flipped through the block device while unmounted,
// inode, size and times untouched), the same through the filesystem seam
// where no loop device is to be had, the rotation counted by the agent's
// own statistics, and `standbyctl verify`.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/sync/hash_cache.h"
#include "tests/support/backup_tree.h"
#include "tests/support/loop_fs.h"
#include "tests/support/query.h"
#include "tests/support/restore_rig.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/tree_compare.h"

namespace sb::restore {
namespace {

using sb::testing::LoopFs;
using sb::testing::QueryText;
using sb::testing::RunStandbyctl;
using sb::testing::TempDir;
using sb::testing::TreeDifference;
using Rig = sb::testing::RestoreRig;

constexpr uint64_t kFlipAt = 100'000;

// The backup: a database file of 200 KiB and a few small ones.
void MakeSource(const TempDir& dir) {
  std::string data;
  for (size_t i = 0; i < 200'000; ++i) data.push_back(static_cast<char>((i * 7919) % 251));
  dir.Write("src/db/data.bin", data);
  dir.Write("src/www/index.html", "<h1>hello</h1>\n");
  dir.Write("src/etc/app.conf", "workers=4\n");
}

struct StatKey {
  ino_t ino;
  off_t size;
  timespec mtime, ctime;
};

StatKey KeyOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return {st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

bool SameKey(const StatKey& a, const StatKey& b) {
  return a.ino == b.ino && a.size == b.size && a.mtime.tv_sec == b.mtime.tv_sec &&
         a.mtime.tv_nsec == b.mtime.tv_nsec && a.ctime.tv_sec == b.ctime.tv_sec &&
         a.ctime.tv_nsec == b.ctime.tv_nsec;
}

std::vector<std::string> Verify(Rig& rig, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--config", rig.Config(rig.dir.Sub("src")), "verify",
                                   "--standby", "web1-standby"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The target's data.bin has rotted (other bytes, same stat): `verify`
// finds and names it and changes nothing; the restore (verify_every = 1)
// finds it, repairs it from the source and fails by on_corrupt = fail; the
// next restore is clean.
void ExpectFoundNamedRepaired(Rig& rig) {
  const std::string file = rig.target + "/db/data.bin";
  const std::string rotten = *base::ReadFile(file);
  REQUIRE(rotten != *base::ReadFile(rig.dir.Sub("src/db/data.bin")));

  base::ProcessResult v = RunStandbyctl(Verify(rig));
  INFO(v.out << v.err);
  CHECK(v.exit_code == 1);
  CHECK(v.out.find("  corrupt 1 file read back with other bytes than the last restore wrote") !=
        std::string::npos);
  CHECK(v.out.find("          corrupt   db/data.bin  (read back with other bytes under the same "
                   "inode, size and times)\n") != std::string::npos);
  CHECK(*base::ReadFile(file) == rotten);  // verify changes nothing

  base::ProcessResult r = rig.Restore(rig.dir.Sub("src"), {"--json"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("db/data.bin") == std::string::npos);  // named in the report, counted here
  CHECK(r.err.find("1 file read back from the standby's disk with other bytes than the last "
                   "restore wrote (corruption at rest), repaired from the source; a standby "
                   "whose disk rots cannot be trusted (on_corrupt = fail)") != std::string::npos);
  nlohmann::json j = nlohmann::json::parse(r.out)[0];
  REQUIRE(j["drift"].size() == 1);
  CHECK(j["drift"][0]["kind"] == "corrupt");
  CHECK(j["drift"][0]["path"] == "db/data.bin");
  CHECK(j["verify"]["reread_files"] == 3);
  CHECK(TreeDifference(rig.dir.Sub("src"), rig.target) == "");
  // Both findings are on record, the path named.
  CHECK(QueryText(rig.dir.Sub("state/state.db"),
                  "SELECT count(*) || ' ' || group_concat(DISTINCT path) FROM drift WHERE "
                  "kind = 'corrupt'") == "2 db/data.bin");
  CHECK(QueryText(rig.dir.Sub("state/state.db"),
                  "SELECT corrupt_count FROM restore_stats ORDER BY id DESC LIMIT 1") == "1");

  r = rig.Restore(rig.dir.Sub("src"), {"--json"});
  CHECK(r.exit_code == 0);
  j = nlohmann::json::parse(r.out)[0];
  CHECK(j["drift"].empty());
  CHECK(j["verify"]["reread_files"] == 3);
  CHECK(j["verify"]["every_file_read_within"] == 1);
}

TEST_CASE("verify: bit rot on a real disk is found, named and repaired, and fails the restore",
          "[restore][verify][e2e]") {
  TempDir fs;
  REQUIRE(base::MakeDirectories(fs.Sub("mnt"), 0755).ok());
  LoopFs disk(fs.path(), fs.Sub("mnt"), 32);
  if (!disk.ready()) {
    WARN("skipped: no loop device: " + disk.skip_reason());
    return;
  }
  Rig rig(fs.Sub("mnt/target"));
  rig.mapping_extra = "verify_every = 1\nkeep_free = \"1MiB\"\n";
  MakeSource(rig.dir);
  base::ProcessResult r = rig.Restore(rig.dir.Sub("src"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  const StatKey before = KeyOf(rig.target + "/db/data.bin");
  REQUIRE(disk.Unmount());
  std::string why;
  REQUIRE(disk.FlipByte("target/db/data.bin", kFlipAt, &why));
  INFO(why);
  REQUIRE(disk.Mount());
  // What bit rot looks like: the same inode, size and times.
  CHECK(SameKey(KeyOf(rig.target + "/db/data.bin"), before));
  ExpectFoundNamedRepaired(rig);
}

TEST_CASE("verify: the same through the filesystem seam, where no loop device is at hand",
          "[restore][verify][e2e]") {
  Rig rig;
  rig.mapping_extra = "verify_every = 1\n";
  MakeSource(rig.dir);
  REQUIRE(rig.Restore(rig.dir.Sub("src")).exit_code == 0);
  // Other bytes, then the agent's record of the file's stat set to its new
  // one: what the agent sees when the disk changes under an unchanged stat.
  const std::string file = rig.target + "/db/data.bin";
  std::string data = *base::ReadFile(file);
  data[kFlipAt] = static_cast<char>(data[kFlipAt] ^ 0xff);
  REQUIRE(base::WriteFileAtomically(file, data, 0644).ok());
  const std::string cache_path =
      sync::HashCache::PathFor(rig.pki.dir.Sub("agent-state"), rig.target);
  base::Result<sync::HashCache> cache = sync::HashCache::Load(cache_path);
  REQUIRE(cache.ok());
  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  sync::CachedHash* h = cache->FindMutable("db/data.bin");
  REQUIRE(h != nullptr);
  *h = sync::CachedHash::Of(st, h->sha256, h->verified);
  REQUIRE(cache->Save(cache_path).ok());
  ExpectFoundNamedRepaired(rig);
}

TEST_CASE("verify: a rotation reads every file once, by the agent's count, and says how recently",
          "[restore][verify][e2e]") {
  Rig rig;
  rig.mapping_extra = "verify_every = 4\n";
  for (int i = 0; i < 8; ++i) {
    rig.dir.Write("src/f" + std::to_string(i), std::string(10'000, static_cast<char>('a' + i)));
  }
  base::ProcessResult r = rig.Restore(rig.dir.Sub("src"));
  REQUIRE(r.exit_code == 0);
  uint64_t files = 0, bytes = 0;
  for (int pass = 2; pass <= 5; ++pass) {
    r = rig.Restore(rig.dir.Sub("src"), {"--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const nlohmann::json v = nlohmann::json::parse(r.out)[0]["verify"];
    CHECK(v["pass"] == pass);
    CHECK(v["reread_files"] == 2);  // a quarter each restore
    files += v["reread_files"].get<uint64_t>();
    bytes += v["reread_bytes"].get<uint64_t>();
  }
  CHECK(files == 8);
  CHECK(bytes == 80'000);
  r = rig.Restore(rig.dir.Sub("src"));
  CHECK(r.out.find("  read    19.5 KiB re-read from the standby's disk (2 files), 58.6 KiB taken "
                   "from the hash cache; every file re-read or rewritten within the last 4 "
                   "restores\n") != std::string::npos);

  // verify --full reads everything now, changes nothing, finds nothing.
  base::ProcessResult v = RunStandbyctl(Verify(rig, {"--full", "--json"}));
  INFO(v.err);
  CHECK(v.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(v.out)[0];
  CHECK(j["verify"]["reread_files"] == 8);
  CHECK(j["corrupt"] == 0);
  CHECK(j["verify"]["every_file_read_within"] == 1);
}

TEST_CASE("verify: a target never restored has nothing to verify against", "[restore][verify]") {
  Rig rig;
  MakeSource(rig.dir);
  base::ProcessResult v = RunStandbyctl(Verify(rig));
  CHECK(v.exit_code == 1);
  CHECK(v.err == "standbyctl: verify " + rig.target + ": " + rig.target +
                     ": no record of a successful restore (no hash cache), so nothing to verify "
                     "against; restore the target first\n");
}

}  // namespace
}  // namespace sb::restore
