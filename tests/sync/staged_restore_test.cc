// The agent's staged restore in process: recovery's bad inputs, an
// abandoned restore, overlapping targets, the hash cache's bad inputs.

#include "agent/sync/staged_restore.h"

#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/rsync_delta.h"
#include "agent/sync/tree_scan.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace sb::sync {
namespace {

using sb::testing::DescribeTree;
using sb::testing::TempDir;

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
  CHECK(StagedRestore::RecoverAll(dir.Sub("state")).value().empty());
}

TEST_CASE("staged restore: a corrupt journal is reported and the target left alone", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  dir.Write("target/.standbyctl-staging/journal", "not cbor at all");
  dir.Write("state/restores/0123", dir.Sub("target"));
  dir.Write("state/restores/4567", "relative/path");
  const std::vector<std::string> before = DescribeTree(dir.Sub("target"));

  base::Result<std::vector<std::string>> lines = StagedRestore::RecoverAll(dir.Sub("state"));
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 2);
  CHECK((*lines)[0] == "interrupted restore of " + dir.Sub("target") +
                           " NOT recovered: " + dir.Sub("target") +
                           "/.standbyctl-staging/journal: not a restore journal");
  CHECK((*lines)[1] == "registration " + dir.Sub("state/restores/4567") +
                           " unreadable, ignored: not an absolute path");
  CHECK(DescribeTree(dir.Sub("target")) == before);

  std::string recovered;
  CHECK(StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered).status().message() ==
        "recovering an interrupted restore: " + dir.Sub("target") +
            "/.standbyctl-staging/journal: not a restore journal");
  CHECK(DescribeTree(dir.Sub("target")) == before);
}

TEST_CASE("staged restore: a staging area without a journal is discarded at start", "[staged]") {
  TempDir dir;
  dir.Write("target/a.txt", "old\n");
  dir.Write("target/.standbyctl-staging/f0", "half a fi");
  dir.Write("state/restores/0123", dir.Sub("target"));
  base::Result<std::vector<std::string>> lines = StagedRestore::RecoverAll(dir.Sub("state"));
  REQUIRE(lines.ok());
  CHECK(*lines ==
        std::vector<std::string>{"interrupted restore of " + dir.Sub("target") + " discarded"});
  CHECK_FALSE(Exists(dir.Sub("target/.standbyctl-staging")));
  CHECK_FALSE(Exists(dir.Sub("state/restores/0123")));
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
  std::string expected;
  REQUIRE(MakeSignature(content.size(), StringSource(content), StringSink(&expected)).ok());
  auto signature_now = [&] {
    auto r = StagedRestore::Begin(dir.Sub("target"), dir.Sub("state"), &recovered);
    REQUIRE(r.ok());
    std::string got;
    REQUIRE((*r)->Signature("big.bin", StringSink(&got)).ok());
    return got;
  };
  // Kept: the one file under sigcache/ is the signature, and it is what
  // Signature answers.
  std::string kept_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Sub("state/sigcache"))) {
    if (e.is_regular_file()) kept_path = e.path().string();
  }
  REQUIRE(kept_path.ends_with("/" + Sha(content) + ".sig"));
  CHECK(base::ReadFile(kept_path).value() == expected);
  // Proof it is read, not computed: a marked copy comes back as it is.
  REQUIRE(base::WriteFileAtomically(kept_path, expected + "marked", 0600).ok());
  CHECK(signature_now() == expected + "marked");
  // Once the file changed (even with size and mtime put back), it is not used.
  std::string edited = content;
  edited[1000] ^= 1;
  dir.Write("target/big.bin", edited);
  std::string fresh;
  REQUIRE(MakeSignature(edited.size(), StringSource(edited), StringSink(&fresh)).ok());
  CHECK(signature_now() == fresh);
}

}  // namespace
}  // namespace sb::sync
