// Scanning a target tree, and its digest against the backup it came from:
// a directory, a GNU tar archive of it, and a copy made by the real rsync
// must all have one digest.

#include "agent/sync/tree_scan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "standby/restore/source_manifest.h"
#include "tests/support/backup_tree.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using sb::testing::MakeBackupTree;
using sb::testing::RunOrFail;
using sb::testing::TempDir;

std::string SourceDigest(const std::string& configured) {
  base::Result<restore::ResolvedSource> source = restore::ResolveSource(configured);
  REQUIRE(source.ok());
  base::Result<std::vector<ManifestEntry>> m = restore::ManifestOf(*source);
  INFO(m.status().message());
  REQUIRE(m.ok());
  return ManifestDigest(*m);
}

std::string ScanDigest(const std::string& root) {
  base::Result<std::vector<ManifestEntry>> m = ScanTree(root);
  INFO(m.status().message());
  REQUIRE(m.ok());
  return ManifestDigest(*m);
}

TEST_CASE("scan: a tree, its tar archive and an rsync copy have one digest", "[scan]") {
  TempDir dir;
  MakeBackupTree(dir);
  const std::string digest = ScanDigest(dir.Sub("src"));
  CHECK(digest.size() == 64);
  CHECK(SourceDigest(dir.Sub("src")) == digest);
  RunOrFail({"tar", "-C", dir.Sub("src"), "--zstd", "-cf", dir.Sub("backup.tar.zst"), "."});
  CHECK(SourceDigest(dir.Sub("backup.tar.zst")) == digest);
  RunOrFail({"rsync", "-a", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
  CHECK(ScanDigest(dir.Sub("copy")) == digest);

  // One byte, one bit of mode, or one symlink target apart: another digest.
  dir.Write("copy/www/index.html", "<h1>hellO</h1>\n", 0644);
  RunOrFail({"touch", "-r", dir.Sub("src/www/index.html"), dir.Sub("copy/www/index.html")});
  CHECK(ScanDigest(dir.Sub("copy")) != digest);
  // Same size and time: rsync's quick check would skip the file (this is
  // what drift looks like); with --checksum it repairs it.
  RunOrFail({"rsync", "-a", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
  CHECK(ScanDigest(dir.Sub("copy")) != digest);
  RunOrFail({"rsync", "-a", "--checksum", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
  CHECK(ScanDigest(dir.Sub("copy")) == digest);
  ::chmod(dir.Sub("copy/data.bin").c_str(), 0644);
  CHECK(ScanDigest(dir.Sub("copy")) != digest);
}

TEST_CASE("scan: symlinks are entries, never followed", "[scan]") {
  TempDir dir;
  dir.Write("outside/secret", "do not read\n");
  dir.Write("target/file", "x");
  REQUIRE(::symlink(dir.Sub("outside").c_str(), dir.Sub("target/escape").c_str()) == 0);
  base::Result<std::vector<ManifestEntry>> m = ScanTree(dir.Sub("target"));
  REQUIRE(m.ok());
  REQUIRE(m->size() == 2);
  ManifestDigest(*m);  // sorts
  CHECK((*m)[0].path == "escape");
  CHECK((*m)[0].type == NodeType::kSymlink);
  CHECK((*m)[0].link_target == dir.Sub("outside"));

  // A root that is itself a symlink is refused rather than followed.
  REQUIRE(::symlink(dir.Sub("outside").c_str(), dir.Sub("link-root").c_str()) == 0);
  CHECK(ScanTree(dir.Sub("link-root")).status().message() ==
        dir.Sub("link-root") + ": is a symlink or not a directory");
}

TEST_CASE("scan: a missing target is empty and a FIFO in one is an error", "[scan]") {
  TempDir dir;
  base::Result<std::vector<ManifestEntry>> none = ScanTree(dir.Sub("absent"));
  REQUIRE(none.ok());
  CHECK(none->empty());
  dir.Write("t/a", "x");
  REQUIRE(::mkfifo(dir.Sub("t/pipe").c_str(), 0600) == 0);
  CHECK(ScanTree(dir.Sub("t")).status().message() ==
        dir.Sub("t") + "/pipe: is a device, FIFO or socket; a restore target holds none");
}

TEST_CASE("scan: a manifest line cannot be forged by a file name", "[scan]") {
  ManifestEntry a{"x\nf 0644 0 0 0: y", NodeType::kFile, 0644, 0, 0, {}, ""};
  ManifestEntry b{"x", NodeType::kFile, 0644, 0, 0, {}, ""};
  CHECK(ManifestLine(a) != ManifestLine(b));
  CHECK(ManifestLine(b) == "f 0644 0 0 0: 1:x\n");
}

}  // namespace
}  // namespace sb::sync
