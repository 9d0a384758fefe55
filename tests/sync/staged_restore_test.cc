// The agent's staged restore in process: recovery's bad inputs, an
// abandoned restore, overlapping targets, the hash cache's bad inputs.

#include "agent/sync/staged_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/journal.h"
#include "agent/sync/path.h"
#include "agent/sync/rsync_delta.h"
#include "agent/sync/tree_scan.h"
#include "tests/support/backup_tree.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"
#include "tests/support/tree_compare.h"

namespace sb::sync {
namespace {

using sb::testing::DescribeTree;
using sb::testing::Sh;
using sb::testing::TempDir;
using sb::testing::Tmpfs;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Sha(std::string_view data) {
  Sha256 sha;
  sha.Update(data.data(), data.size());
  return sha.HexDigest();
}

TEST_CASE("staged restore: an abandoned restore leaves nothing behind", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  const std::vector<std::string> before = DescribeTree(dir.Sub("target"));
  std::string recovered;
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    CHECK(recovered.empty());
    REQUIRE((*r)->StageFile("a.txt", false, StringSource("new\n"), 4, Sha("new\n"), {}).ok());
    CHECK(Exists(dir.Sub("target/.standbyctl-staging")));
    // A second restore of the target, or of a directory inside it, waits.
    std::string ignored;
    CHECK(StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &ignored).status().message() ==
          "a restore of " + dir.Sub("target") + " is already in progress");
    CHECK(StagedRestore::Begin(dir.Sub("target/sub"), dir.Sub("state"), &ignored)
              .status()
              .message() == "a restore of " + dir.Sub("target") + " is already in progress");
  }
  CHECK(DescribeTree(dir.Sub("target")) == before);
  CHECK(base::ReadFile(dir.Sub("target/a.txt")).value() == "old\n");
  CHECK(StagedRestore::RecoverAll(dir.Sub("state")).empty());
}

TEST_CASE("staged restore: a corrupt journal is reported and the target left alone", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  dir.Write("target/.standbyctl-staging/journal", "not cbor at all");
  dir.Write("state/restores/0123", dir.Sub("target"));
  dir.Write("state/restores/4567", "relative/path");
  const std::vector<std::string> before = DescribeTree(dir.Sub("target"));

  const std::vector<std::string> lines = StagedRestore::RecoverAll(dir.Sub("state"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "interrupted restore of " + dir.Sub("target") + " NOT recovered: " + dir.Sub("target") +
            "/.standbyctl-staging/journal: not a restore journal; the journal of a "
            "committed restore is damaged, so it cannot be finished; to give the "
            "interrupted restore up instead, remove " +
            dir.Sub("target/.standbyctl-staging") + " and " + dir.Sub("state/restores/0123") +
            ": the target then holds part of the old and part of the new state "
            "until a restore of it succeeds");
  CHECK(lines[1] == "registration " + dir.Sub("state/restores/4567") +
                        " unreadable, ignored: not an absolute path");
  CHECK(DescribeTree(dir.Sub("target")) == before);

  std::string recovered;
  CHECK_THAT(
      StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered).status().message(),
      Catch::StartsWith("recovering an interrupted restore: " + dir.Sub("target") +
                        "/.standbyctl-staging/journal: not a restore journal; the journal "
                        "of a committed restore is damaged, so it cannot be finished; to "
                        "give the interrupted restore up instead, remove " +
                        dir.Sub("target/.standbyctl-staging") + " and "));
  CHECK(DescribeTree(dir.Sub("target")) == before);
}

TEST_CASE("staged restore: a staging area without a journal is discarded at start", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  dir.Write("target/.standbyctl-staging/f0", "half a fi");
  dir.Write("state/restores/0123", dir.Sub("target"));
  CHECK(StagedRestore::RecoverAll(dir.Sub("state")) ==
        std::vector<std::string>{"interrupted restore of " + dir.Sub("target") + " discarded"});
  CHECK_FALSE(Exists(dir.Sub("target/.standbyctl-staging")));
  CHECK_FALSE(Exists(dir.Sub("state/restores/0123")));
  CHECK(base::ReadFile(dir.Sub("target/a.txt")).value() == "old\n");
}

TEST_CASE("staged restore: a target another process is restoring is left alone", "[staged]") {
  // Another agent (with another state_dir, or a second one started by hand)
  // in the middle of a restore of the same target: its staging area looks
  // like a crashed restore's, and must not be taken for one.
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  dir.Write("target/.standbyctl-staging/f0", "half a fi");
  dir.Write("state/restores/0123", dir.Sub("target"));
  const std::vector<std::string> before = DescribeTree(dir.Sub("target"));
  // flock(2) locks belong to an open file: another open of the target here
  // holds it exactly as another process would.
  base::UniqueFd other(::open(dir.Sub("target").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(base::TryLock(other.get(), "the other restore's target").ok());

  const std::string busy = dir.Sub("target") +
                           " is being restored by another process (another standby-agent?); its "
                           "restore is left alone";
  CHECK(StagedRestore::RecoverAll(dir.Sub("state")) ==
        std::vector<std::string>{"interrupted restore of " + dir.Sub("target") +
                                 " NOT recovered: " + busy});
  std::string recovered;
  auto refused = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  CHECK(refused.status().code() == base::Code::kUnavailable);
  CHECK(refused.status().message() == busy);
  CHECK(DescribeTree(dir.Sub("target")) == before);
  CHECK(base::ReadFile(dir.Sub("target/.standbyctl-staging/f0")).value() == "half a fi");
  CHECK(Exists(dir.Sub("state/restores/0123")));

  // The lock goes with the other process: what it left is recovered.
  other.Reset();
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    CHECK(recovered == "discarded");
    // The restore now holds the target against others in turn.
    base::UniqueFd again(::open(dir.Sub("target").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    CHECK(base::TryLock(again.get(), "the target").code() == base::Code::kUnavailable);
  }
  CHECK_FALSE(Exists(dir.Sub("target/.standbyctl-staging")));
  CHECK(base::ReadFile(dir.Sub("target/a.txt")).value() == "old\n");
}

TEST_CASE("staged restore: a commit writes the hash cache a scan then uses", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  std::string recovered;
  auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(r.ok());
  FileMeta meta{0640, 1'700'000'000'123'456'789, {}, {}};
  REQUIRE((*r)->StageFile("a.txt", false, StringSource("new\n"), 4, Sha("new\n"), meta).ok());
  REQUIRE((*r)->AddDirectory("d", {0750, 1'700'000'000'000'000'000, {}, {}}).ok());
  REQUIRE((*r)->StageFile("d/b.txt", false, StringSource("b\n"), 2, Sha("b\n"), meta).ok());
  base::Result<CommitResult> c = (*r)->Commit();
  REQUIRE(c.ok());
  CHECK(c->entries == 3);
  CHECK(c->hashed_bytes == 0);  // both files' hashes were known
  CHECK(DescribeTree(dir.Sub("target"), {true, false, true}) ==
        std::vector<std::string>{
            "a.txt file 4 " + Sha("new\n") + " mode 0640 mtime 1700000000.123456789",
            "d dir mode 0750 mtime 1700000000.000000000",
            "d/b.txt file 2 " + Sha("b\n") + " mode 0640 mtime 1700000000.123456789"});

  const std::string cache_path = HashCache::PathFor(dir.Sub("state"), dir.Sub("target"));
  base::Result<HashCache> cache = HashCache::Load(cache_path);
  REQUIRE(cache.ok());
  CHECK(cache->present());
  CHECK(cache->size() == 2);
  ScanOptions options;
  options.cache = &*cache;
  uint64_t hashed = 0;
  options.hashed_bytes = &hashed;
  REQUIRE(ScanTree(dir.Sub("target"), options).ok());
  CHECK(hashed == 0);

  // A damaged cache file is an error the agent logs; it then scans without.
  dir.Write(cache_path.substr(dir.path().size() + 1), "\xa1\x67version");
  CHECK(HashCache::Load(cache_path).status().message() == cache_path + ": malformed hash cache");
  CHECK_FALSE(HashCache::Load(dir.Sub("state/none.cbor")).value().present());
}

TEST_CASE("staged restore: signatures are kept from staging and used while the file is as left",
          "[staged]") {
  TempDir dir;
  std::string content(300'000, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 131 % 251);
  std::string recovered;
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    REQUIRE(
        (*r)->StageFile("big.bin", false, StringSource(content), content.size(), Sha(content), {})
            .ok());
    REQUIRE((*r)->Commit().ok());
  }
  auto signature_now = [&] {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    std::string got;
    REQUIRE((*r)->Signature("big.bin", StringSink(&got)).ok());
    return got;
  };
  // Kept: the one file under sigcache/ is the signature (what MakeSignature
  // gives with its seed), and it is what Signature answers.
  std::string kept_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Sub("state/sigcache"))) {
    if (e.is_regular_file()) kept_path = e.path().string();
  }
  REQUIRE(kept_path.ends_with("/" + Sha(content) + ".sig"));
  const std::string kept = base::ReadFile(kept_path).value();
  REQUIRE(SignatureSeed(kept).has_value());
  std::string expected;
  REQUIRE(MakeSignature(content.size(), StringSource(content), StringSink(&expected),
                        *SignatureSeed(kept))
              .ok());
  CHECK(kept == expected);
  // Proof it is read, not computed: a marked copy (one block hash changed,
  // still well formed) comes back as it is.
  std::string marked = expected;
  marked[40] ^= 1;
  REQUIRE(CheckSignature(marked).ok());
  REQUIRE(base::WriteFileAtomically(kept_path, marked, 0600).ok());
  CHECK(signature_now() == marked);
  // A kept signature that is not well formed (an older format, a torn
  // write) is not answered: a fresh one is computed.
  REQUIRE(base::WriteFileAtomically(kept_path, expected + "junk", 0600).ok());
  std::string recomputed = signature_now();
  REQUIRE(CheckSignature(recomputed).ok());
  std::string same;
  REQUIRE(MakeSignature(content.size(), StringSource(content), StringSink(&same),
                        *SignatureSeed(recomputed))
              .ok());
  CHECK(recomputed == same);
  // Once the file changed (even with size and mtime put back), it is not used.
  std::string edited = content;
  edited[1000] ^= 1;
  dir.Write("target/big.bin", edited);
  std::string got = signature_now();
  REQUIRE(SignatureSeed(got).has_value());
  std::string fresh;
  REQUIRE(
      MakeSignature(edited.size(), StringSource(edited), StringSink(&fresh), *SignatureSeed(got))
          .ok());
  CHECK(got == fresh);
}

TEST_CASE("staged restore: a commit prunes the signatures of content no file holds now",
          "[staged]") {
  TempDir dir;
  auto content = [](char seed) {
    std::string c(300'000, '\0');
    for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<char>((i * 131 + seed) % 251);
    return c;
  };
  const std::string a = content('a'), b = content('b');
  std::string recovered;
  auto commit = [&](const std::string& path, const std::string& data) {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    REQUIRE((*r)->StageFile(path, false, StringSource(data), data.size(), Sha(data), {}).ok());
    REQUIRE((*r)->Commit().ok());
  };
  auto kept = [&] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Sub("state/sigcache"))) {
      if (e.is_regular_file()) names.insert(e.path().filename().string());
    }
    return names;
  };
  commit("one.bin", a);
  commit("two.bin", a);  // the same content: one signature
  REQUIRE(kept() == std::set<std::string>{Sha(a) + ".sig"});
  std::string sigdir;  // the target's
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Sub("state/sigcache"))) {
    if (e.is_regular_file()) sigdir = e.path().parent_path().string();
  }
  REQUIRE(base::WriteFileAtomically(sigdir + "/" + std::string(64, 'd') + ".sig", "x", 0600).ok());
  REQUIRE(base::WriteFileAtomically(sigdir + "/notes.txt", "x", 0600).ok());
  // One file of the two now holds b: a's signature stays for the other;
  // the signature of content no file holds goes; what is not a signature
  // stays.
  commit("one.bin", b);
  CHECK(kept() == std::set<std::string>{Sha(a) + ".sig", Sha(b) + ".sig", "notes.txt"});
  commit("two.bin", b);
  CHECK(kept() == std::set<std::string>{Sha(b) + ".sig", "notes.txt"});
}

TEST_CASE("staged restore: a delta's kept signature is the new file's, old sums reused",
          "[staged]") {
  TempDir dir;
  std::string v1(2'000'000, '\0');
  for (size_t i = 0; i < v1.size(); ++i) v1[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string v2 = v1;
  for (size_t off : {5u, 600'000u, 1'999'990u}) v2[off] ^= 0x40;
  std::string recovered;
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    REQUIRE((*r)->StageFile("db", false, StringSource(v1), v1.size(), Sha(v1), {}).ok());
    REQUIRE((*r)->Commit().ok());
  }
  auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(r.ok());
  std::string old_sig;
  REQUIRE((*r)->Signature("db", StringSink(&old_sig)).ok());
  std::string delta;
  base::Result<DeltaStats> stats = MakeDelta(old_sig, StringSource(v2), StringSink(&delta));
  REQUIRE(stats.ok());
  CHECK(stats->literal_bytes < 3UL * 16 * 1024);
  REQUIRE((*r)->StageFile("db", true, StringSource(delta), v2.size(), Sha(v2), {}).ok());
  REQUIRE((*r)->Commit().ok());
  r->reset();

  auto again = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(again.ok());
  std::string new_sig;
  REQUIRE((*again)->Signature("db", StringSink(&new_sig)).ok());
  CHECK(SignatureSeed(new_sig) == SignatureSeed(old_sig));  // the file keeps its seed
  std::string expected;
  REQUIRE(MakeSignature(v2.size(), StringSource(v2), StringSink(&expected), *SignatureSeed(old_sig))
              .ok());
  CHECK(new_sig == expected);
}

// Restores `v2` over the target's "db" (holding `v1`, put there by a first
// restore) as a delta; `between` runs after staging, before the commit.
struct DeltaOutcome {
  base::Status commit;
  std::vector<std::string> unapplied;  // changes that failed after the commit point
  ino_t inode_before = 0, inode_after = 0;
  std::string content;
  std::vector<std::string> staged;  // names in the staging area before the commit
};
DeltaOutcome RestoreDelta(const TempDir& dir, const std::string& v1, const std::string& v2,
                          const std::function<void()>& between = {}) {
  std::string recovered;
  FileMeta meta;
  meta.mode = 0640;
  meta.mtime_ns = 1'700'000'000'000'000'000;
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    REQUIRE((*r)->StageFile("db", false, StringSource(v1), v1.size(), Sha(v1), meta).ok());
    REQUIRE((*r)->Commit().ok());
  }
  DeltaOutcome o;
  struct stat st;
  REQUIRE(::stat(dir.Sub("target/db").c_str(), &st) == 0);
  o.inode_before = st.st_ino;
  auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(r.ok());
  std::string sig, delta;
  REQUIRE((*r)->Signature("db", StringSink(&sig)).ok());
  REQUIRE(MakeDelta(sig, StringSource(v2), StringSink(&delta)).ok());
  meta.mtime_ns += 1'000'000'000;
  REQUIRE((*r)->StageFile("db", true, StringSource(delta), v2.size(), Sha(v2), meta).ok());
  for (const auto& e :
       std::filesystem::directory_iterator(dir.Sub("target/" + std::string(kStagingDirName)))) {
    o.staged.push_back(e.path().filename().string() + " " +
                       std::to_string(e.is_regular_file() ? e.file_size() : 0));
  }
  if (between) between();
  base::Result<CommitResult> c = (*r)->Commit();
  o.commit = c.status();
  if (c.ok()) o.unapplied = c->unapplied;
  r->reset();
  REQUIRE(::stat(dir.Sub("target/db").c_str(), &st) == 0);
  o.inode_after = st.st_ino;
  if (o.commit.ok() && o.unapplied.empty()) CHECK((st.st_mode & 07777) == 0640u);
  if (o.commit.ok() && o.unapplied.empty()) CHECK(st.st_mtim.tv_sec == 1'700'000'001);
  o.content = base::ReadFile(dir.Sub("target/db"), 1 << 30).value();
  return o;
}

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed;
  for (char& c : s) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    c = static_cast<char>(x >> 56);
  }
  return s;
}

TEST_CASE("staged restore: a large file changed in place is patched in place", "[staged]") {
  TempDir dir;
  const std::string v1 = Pattern(6 << 20, 1);
  std::string v2 = v1;
  for (size_t off : {100u, 3'000'000u, 6'000'000u}) v2[off] ^= 0x11;
  SECTION("edits") {
    DeltaOutcome o = RestoreDelta(dir, v1, v2);
    REQUIRE(o.commit.ok());
    CHECK(o.content == v2);
    CHECK(o.inode_after == o.inode_before);  // the same file, written in place
    REQUIRE(o.staged.size() == 1);
    CHECK(o.staged[0].starts_with("p"));
    CHECK(std::stoul(o.staged[0].substr(o.staged[0].find(' ') + 1)) < 200'000);
  }
  SECTION("grown and edited") {
    v2 += Pattern(1'000'000, 2);
    DeltaOutcome o = RestoreDelta(dir, v1, v2);
    REQUIRE(o.commit.ok());
    CHECK(o.content == v2);
    CHECK(o.inode_after == o.inode_before);
  }
  SECTION("cut short") {
    v2.resize(4'500'000);
    DeltaOutcome o = RestoreDelta(dir, v1, v2);
    REQUIRE(o.commit.ok());
    CHECK(o.content == v2);
    CHECK(o.inode_after == o.inode_before);
  }
  SECTION("everything moved: staged whole after all") {
    v2 = "a few new bytes in front" + v1;
    DeltaOutcome o = RestoreDelta(dir, v1, v2);
    REQUIRE(o.commit.ok());
    CHECK(o.content == v2);
    CHECK(o.inode_after != o.inode_before);
    REQUIRE(o.staged.size() == 1);
    CHECK(o.staged[0].starts_with("f"));
  }
}

TEST_CASE("staged restore: a hard-linked file is replaced, not patched", "[staged]") {
  TempDir dir;
  const std::string v1 = Pattern(5 << 20, 3);
  std::string v2 = v1;
  v2[4'000'000] ^= 1;
  std::string recovered;
  {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    REQUIRE((*r)->StageFile("db", false, StringSource(v1), v1.size(), Sha(v1), {}).ok());
    REQUIRE((*r)->Commit().ok());
  }
  REQUIRE(::link(dir.Sub("target/db").c_str(), dir.Sub("other-name").c_str()) == 0);
  auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(r.ok());
  std::string sig, delta;
  REQUIRE((*r)->Signature("db", StringSink(&sig)).ok());
  REQUIRE(MakeDelta(sig, StringSource(v2), StringSink(&delta)).ok());
  REQUIRE((*r)->StageFile("db", true, StringSource(delta), v2.size(), Sha(v2), {}).ok());
  REQUIRE((*r)->Commit().ok());
  CHECK(base::ReadFile(dir.Sub("target/db"), 1 << 30).value() == v2);
  CHECK(base::ReadFile(dir.Sub("other-name"), 1 << 30).value() == v1);
}

TEST_CASE("staged restore: a file changed after its patch was staged fails the commit, unchanged",
          "[staged]") {
  TempDir dir;
  const std::string v1 = Pattern(5 << 20, 4);
  std::string v2 = v1;
  v2[10] ^= 1;
  std::string meddled;
  DeltaOutcome o = RestoreDelta(dir, v1, v2, [&] {
    meddled = v1;
    meddled[2'000'000] = 'M';
    dir.Write("target/db", meddled, 0640);
  });
  REQUIRE_FALSE(o.commit.ok());
  CHECK(o.commit.message() == dir.Sub("target/db") +
                                  ": changed since the restore staged its new content; run the "
                                  "restore again");
  CHECK(o.content == meddled);  // nothing applied
}

TEST_CASE(
    "staged restore: a staged patch cut short is a change not applied, and the target is not "
    "left stuck",
    "[staged]") {
  TempDir dir;
  const std::string v1 = Pattern(5 << 20, 5);
  std::string v2 = v1;
  v2[3'000'000] ^= 1;
  DeltaOutcome o = RestoreDelta(dir, v1, v2, [&] {
    for (const auto& e :
         std::filesystem::directory_iterator(dir.Sub("target/" + std::string(kStagingDirName)))) {
      if (e.path().filename().string().starts_with("p")) {
        std::filesystem::resize_file(e.path(), 12 + 12 + 5);  // header, one piece's head, 5 bytes
      }
    }
  });
  // Damaged staging data can never apply: the commit finishes without that
  // change and names it (the controller reports it, with the digest that
  // differs), rather than keep a journal that fails every later restore.
  REQUIRE(o.commit.ok());
  CHECK(o.unapplied == std::vector<std::string>{dir.Sub("target/db") +
                                                ": the staged patch is cut short at byte 12"});
  CHECK_FALSE(Exists(dir.Sub("target/.standbyctl-staging")));
  std::string recovered;
  auto again = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  REQUIRE(again.ok());
  CHECK(recovered.empty());
  // The next restore, planned from what the file holds now, converges.
  std::string sig, delta;
  REQUIRE((*again)->Signature("db", StringSink(&sig)).ok());
  REQUIRE(MakeDelta(sig, StringSource(v2), StringSink(&delta)).ok());
  FileMeta meta;
  REQUIRE((*again)->StageFile("db", true, StringSource(delta), v2.size(), Sha(v2), meta).ok());
  base::Result<CommitResult> c = (*again)->Commit();
  REQUIRE(c.ok());
  CHECK(c->unapplied.empty());
  CHECK(base::ReadFile(dir.Sub("target/db"), 1 << 30).value() == v2);
}

// A journal left by a crash, as a commit writes it, and the registration
// that makes the agent's start look at it.
void LeaveJournal(const TempDir& dir, const std::string& target, const std::string& registration,
                  const std::vector<JournalOp>& ops) {
  dir.Write(target + "/.standbyctl-staging/journal", EncodeJournal(ops), 0600);
  dir.Write("state/restores/" + registration, dir.Sub(target));
}

TEST_CASE(
    "staged restore: a journal whose changes cannot all apply is finished without them, never "
    "stuck",
    "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  Sh("mkdir " + dir.Sub("target/d"));
  dir.Write("target/.standbyctl-staging/f0", "new\n");
  // The second change can never apply: d is a directory.
  LeaveJournal(dir, "target", "0123",
               {JournalOp::PutFile("a.txt", "f0", {0644, 0, {}, {}}, Sha("new\n")),
                JournalOp::Link("x", "d")});
  CHECK(StagedRestore::RecoverAll(dir.Sub("state")) ==
        std::vector<std::string>{
            "interrupted restore of " + dir.Sub("target") +
            " rolled forward, but 1 of its 2 changes could not be applied: " + dir.Sub("target/x") +
            ": hard link to d, which is not a file (the target differs from the backup there "
            "until a restore succeeds)"});
  CHECK(base::ReadFile(dir.Sub("target/a.txt")).value() == "new\n");
  CHECK_FALSE(Exists(dir.Sub("target/.standbyctl-staging")));
  CHECK_FALSE(Exists(dir.Sub("state/restores/0123")));
  std::string recovered;
  auto again = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
  CHECK(again.ok());
  CHECK(recovered.empty());
}

TEST_CASE(
    "staged restore: a journal a full disk stops is kept with the manual step, finishes once "
    "there is room, and other targets are served meanwhile",
    "[staged]") {
  TempDir dir;
  const std::string small = dir.Sub("small");
  REQUIRE(base::MakeDirectories(small, 0755).ok());
  Tmpfs tmpfs(small, "size=1m,nr_inodes=8");
  if (!tmpfs.mounted()) {
    WARN("not run: mounting a tmpfs needs root");
    return;
  }
  dir.Write("small/full/a.txt", "a\n");
  LeaveJournal(dir, "small/full", "0001", {JournalOp::Mkdir("newdir", {0755, 0, {}, {}})});
  // Every inode used: the journal's new directory has none.
  for (int i = 0; i < 8; ++i)
    ::close(::open((small + "/filler" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC,
                   0600));
  // A second target with an interrupted, unjournaled restore.
  dir.Write("other/b.txt", "b\n");
  dir.Write("other/.standbyctl-staging/f0", "half");
  dir.Write("state/restores/0002", dir.Sub("other"));

  const std::string give_up =
      "remove " + small + "/full/.standbyctl-staging and " + dir.Sub("state/restores/");
  const std::vector<std::string> lines = StagedRestore::RecoverAll(dir.Sub("state"));
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::StartsWith("interrupted restore of " + small +
                                         "/full NOT recovered: "
                                         "the interrupted restore of " +
                                         small +
                                         "/full was committed, but 1 of its 1 changes could not "
                                         "be applied: " +
                                         small +
                                         "/full/newdir: No space left on device; its journal is "
                                         "kept and applied again"));
  CHECK_THAT(lines[0], Catch::Contains(give_up));
  CHECK(lines[1] == "interrupted restore of " + dir.Sub("other") + " discarded");
  std::string recovered;
  auto stuck = StagedRestore::Begin(small + "/full", dir.Sub("state"), &recovered);
  CHECK_THAT(stuck.status().message(), Catch::Contains(give_up));
  CHECK(StagedRestore::Begin(dir.Sub("other"), dir.Sub("state"), &recovered).ok());

  // Room again: the journal finishes.
  REQUIRE(::unlink((small + "/filler0").c_str()) == 0);
  REQUIRE(::unlink((small + "/filler1").c_str()) == 0);
  auto finished = StagedRestore::Begin(small + "/full", dir.Sub("state"), &recovered);
  INFO(finished.status().message());
  REQUIRE(finished.ok());
  CHECK(recovered == "rolled forward");
  CHECK(Exists(small + "/full/newdir"));
}

}  // namespace
}  // namespace sb::sync
