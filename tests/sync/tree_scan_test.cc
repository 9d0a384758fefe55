// Scanning a target tree, and its digest against the backup it came from:
// a directory, a GNU tar archive of it, and a copy made by the real rsync
// must all have one digest.

#include "agent/sync/tree_scan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "standby/restore/source_manifest.h"
#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using sb::testing::TempDir;

void Run(const std::vector<std::string>& argv) {
  base::ProcessSpec spec;
  spec.argv = argv;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  REQUIRE(r.ok());
  INFO(argv[0] << ": " << r->err);
  REQUIRE(r->exit_code == 0);
}

void MakeTree(const TempDir& dir) {
  dir.Write("src/www/index.html", "<h1>hello</h1>\n", 0644);
  dir.Write("src/www/app/config.ini", "[app]\nport = 8080\n", 0600);
  dir.Write("src/data.bin", std::string(70'000, 'd'), 0640);
  REQUIRE(::mkdir(dir.Sub("src/empty").c_str(), 0750) == 0);
  REQUIRE(::symlink("www/index.html", dir.Sub("src/current").c_str()) == 0);
}

std::string SourceDigest(const std::string& configured) {
  base::Result<restore::ResolvedSource> source = restore::ResolveSource(configured);
  REQUIRE(source.ok());
  auto reader = std::move(*restore::SourceReader::Open(*source));
  base::Result<std::vector<ManifestEntry>> m = restore::ManifestOf(*reader);
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
  MakeTree(dir);
  const std::string digest = ScanDigest(dir.Sub("src"));
  CHECK(digest.size() == 64);
  CHECK(SourceDigest(dir.Sub("src")) == digest);
  Run({"tar", "-C", dir.Sub("src"), "--zstd", "-cf", dir.Sub("backup.tar.zst"), "."});
  CHECK(SourceDigest(dir.Sub("backup.tar.zst")) == digest);
  Run({"rsync", "-a", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
  CHECK(ScanDigest(dir.Sub("copy")) == digest);

  // One byte, one bit of mode, or one symlink target apart: another digest.
  dir.Write("copy/www/index.html", "<h1>hellO</h1>\n", 0644);
  Run({"touch", "-r", dir.Sub("src/www/index.html"), dir.Sub("copy/www/index.html")});
  CHECK(ScanDigest(dir.Sub("copy")) != digest);
  // Same size and time: rsync's quick check would skip the file (this is
  // what drift looks like); with --checksum it repairs it.
  Run({"rsync", "-a", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
  CHECK(ScanDigest(dir.Sub("copy")) != digest);
  Run({"rsync", "-a", "--checksum", dir.Sub("src") + "/", dir.Sub("copy") + "/"});
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
  ManifestEntry a{"x\nf 0644 0 0 0: y", NodeType::kFile, 0644, 0, 0, "", ""};
  ManifestEntry b{"x", NodeType::kFile, 0644, 0, 0, "", ""};
  CHECK(ManifestLine(a) != ManifestLine(b));
  CHECK(ManifestLine(b) == "f 0644 0 0 0: 1:x\n");
}

}  // namespace
}  // namespace sb::sync
