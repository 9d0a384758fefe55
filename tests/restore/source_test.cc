// Backup sources: a directory and archives made by GNU tar read the same,
// and crafted archives (made with GNU tar -P and Python's tarfile) are
// refused entry by entry with the reason.

#include "standby/restore/source.h"

#include "standby/restore/source_manifest.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/backup_tree.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::restore {
namespace {

using sb::testing::CraftArchive;
using sb::testing::MakeBackupTree;
using sb::testing::RunOrFail;
using sb::testing::TempDir;

struct Seen {
  EntryType type;
  std::string data_or_target;
  uint32_t mode;
  int64_t mtime_s;
  bool operator==(const Seen&) const = default;
};

base::Result<std::map<std::string, Seen>> ReadAll(const std::string& configured) {
  base::Result<ResolvedSource> source = ResolveSource(configured);
  if (!source.ok()) return source.status();
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(*source);
  if (!reader.ok()) return reader.status();
  std::map<std::string, Seen> out;
  SourceEntry e;
  for (;;) {
    base::Result<bool> more = (*reader)->Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    std::string data = e.link_target;
    if (e.type == EntryType::kFile) {
      char buf[4096];
      for (;;) {
        base::Result<size_t> n = (*reader)->Read(buf, sizeof buf);
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        data.append(buf, *n);
      }
      REQUIRE(data.size() == e.size);
    }
    out[e.path] = {e.type, data, e.mode, e.mtime_ns / 1'000'000'000};
  }
  return out;
}

TEST_CASE("source: a directory and GNU tar archives of it read the same", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  base::Result<std::map<std::string, Seen>> tree = ReadAll(dir.Sub("src"));
  REQUIRE(tree.ok());
  CHECK(tree->size() == 7);  // www, www/index.html, www/app, config.ini, data.bin, empty, current
  CHECK(tree->at("current").type == EntryType::kSymlink);
  CHECK(tree->at("current").data_or_target == "www/index.html");
  CHECK(tree->at("empty").type == EntryType::kDirectory);
  CHECK(tree->at("www/app/config.ini").mode == 0600);
  CHECK(tree->at("data.bin").data_or_target.size() == 100'000);

  const std::vector<std::pair<std::string, std::string>> formats = {
      {"tar", "-cf"}, {"tar.gz", "-czf"}, {"tar.xz", "-cJf"}, {"tar.zst", "--zstd -cf"}};
  for (const auto& [ext, flags] : formats) {
    DYNAMIC_SECTION("from ." << ext) {
      std::string archive = dir.Sub("backup." + ext);
      std::vector<std::string> argv = {"tar", "-C", dir.Sub("src")};
      if (flags.starts_with("--zstd")) {
        argv.insert(argv.end(), {"--zstd", "-cf", archive, "."});
      } else {
        argv.insert(argv.end(), {flags, archive, "."});
      }
      RunOrFail(argv);
      base::Result<std::map<std::string, Seen>> read = ReadAll(archive);
      INFO(read.status().message());
      REQUIRE(read.ok());
      CHECK(*read == *tree);
    }
  }
}

TEST_CASE("source: a glob uses its newest match", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  for (const char* name : {"web-1.tar", "web-2.tar", "web-3.tar"}) {
    RunOrFail({"tar", "-C", dir.Sub("src"), "-cf", dir.Sub(name), "www"});
  }
  // web-2 is the newest by time, though not by name.
  timeval times[2] = {{2'000'000'000, 0}, {2'000'000'000, 0}};
  REQUIRE(::utimes(dir.Sub("web-2.tar").c_str(), times) == 0);
  base::Result<ResolvedSource> r = ResolveSource(dir.Sub("web-*.tar"));
  REQUIRE(r.ok());
  CHECK(r->path == dir.Sub("web-2.tar"));
  CHECK(r->kind == ResolvedSource::Kind::kArchive);
  CHECK(r->file_mtime_ns == int64_t{2'000'000'000} * 1'000'000'000);

  base::Result<ResolvedSource> none = ResolveSource(dir.Sub("db-*.tar.zst"));
  CHECK(none.status().message() == "no file matches the source " + dir.Sub("db-*.tar.zst"));
  CHECK(ResolveSource("/dev/null").status().message() ==
        "backup source /dev/null is neither a directory nor an archive file");
  CHECK(ResolveSource(dir.Sub("gone")).status().message() ==
        "backup source " + dir.Sub("gone") + ": No such file or directory");
}

TEST_CASE("source: a symlink given as the source is followed, and only that one", "[source]") {
  TempDir dir;
  MakeBackupTree(dir, "2026-11-30");
  RunOrFail({"ln", "-sfn", "2026-11-30", dir.Sub("latest")});
  for (const std::string& configured : {dir.Sub("latest"), dir.Sub("latest/")}) {
    INFO(configured);
    base::Result<ResolvedSource> r = ResolveSource(configured);
    REQUIRE(r.ok());
    CHECK(r->kind == ResolvedSource::Kind::kDirectory);
    CHECK(r->path == dir.Sub("2026-11-30"));
    CHECK(r->followed == dir.Sub("latest"));
    base::Result<std::map<std::string, Seen>> tree = ReadAll(configured);
    REQUIRE(tree.ok());
    CHECK(tree->size() == 7);
    // The symlink inside the source stays a symlink.
    CHECK(tree->at("current").type == EntryType::kSymlink);
  }
  // An archive behind a symlink, too.
  RunOrFail({"tar", "-C", dir.Sub("2026-11-30"), "-cf", dir.Sub("web-2026-11-30.tar"), "."});
  RunOrFail({"ln", "-sfn", "web-2026-11-30.tar", dir.Sub("web-latest.tar")});
  base::Result<ResolvedSource> archive = ResolveSource(dir.Sub("web-latest.tar"));
  REQUIRE(archive.ok());
  CHECK(archive->path == dir.Sub("web-2026-11-30.tar"));
  CHECK(archive->followed == dir.Sub("web-latest.tar"));
  CHECK(archive->kind == ResolvedSource::Kind::kArchive);
  // A dangling link is a missing source.
  RunOrFail({"ln", "-sfn", "2026-12-31", dir.Sub("dangling")});
  CHECK(ResolveSource(dir.Sub("dangling")).status().message() ==
        "backup source " + dir.Sub("dangling") + ": No such file or directory");
}

TEST_CASE("source: a directory swapped for a symlink after it was resolved is refused",
          "[source]") {
  TempDir dir;
  MakeBackupTree(dir, "2026-11-30");
  RunOrFail({"ln", "-sfn", "2026-11-30", dir.Sub("latest")});
  ResolvedSource stale;  // what a resolve before the swap returned
  stale.kind = ResolvedSource::Kind::kDirectory;
  stale.path = dir.Sub("latest");
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(stale);
  REQUIRE(reader.ok());
  SourceEntry e;
  CHECK((*reader)->Next(&e).status().message() ==
        "backup source " + dir.Sub("latest") +
            " is no longer a directory (it changed while it was read)");
}

TEST_CASE("source manifest: a file that changes between listing and hashing is refused",
          "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  RunOrFail({"tar", "-C", dir.Sub("src"), "-cf", dir.Sub("backup.tar"), "."});
  for (const std::string& configured : {dir.Sub("src"), dir.Sub("backup.tar")}) {
    INFO(configured);
    base::Result<ResolvedSource> source = ResolveSource(configured);
    REQUIRE(source.ok());
    base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(*source);
    REQUIRE(reader.ok());
    base::Result<SourceListing> listing = ListSource(**reader);
    REQUIRE(listing.ok());
    CHECK(listing->unhashed.size() == 3);  // index.html, config.ini, data.bin
    if (source->kind == ResolvedSource::Kind::kDirectory) {
      dir.Write("src/data.bin", std::string(100'000, 'z'));  // same size, another file
    } else {
      RunOrFail({"tar", "-C", dir.Sub("src"), "-cf", dir.Sub("backup.tar"), "www"});
    }
    base::Status hashed = HashListed(*source, &*listing);
    CHECK_THAT(hashed.message(), Catch::StartsWith("backup source " + source->path +
                                                   " changed while it was read: \""));
  }
  // A walk that named a path twice (its directory changed as it was read).
  base::Result<ResolvedSource> src = ResolveSource(dir.Sub("src"));
  REQUIRE(src.ok());
  std::vector<sync::ManifestEntry> twice(3);
  twice[0].path = "www/index.html";
  twice[1].path = "www";
  twice[2].path = "www/index.html";
  CHECK(CheckNamedOnce(*src, twice).message() ==
        "backup source " + src->path +
            " changed while it was read: \"www/index.html\" was listed twice");
  twice.pop_back();
  CHECK(CheckNamedOnce(*src, twice).ok());
  // Unchanged, the two passes give what one would.
  MakeBackupTree(dir, "again");
  base::Result<std::vector<sync::ManifestEntry>> m = ManifestOf(*ResolveSource(dir.Sub("again")));
  REQUIRE(m.ok());
  for (const sync::ManifestEntry& e : *m) {
    if (e.type == sync::NodeType::kFile) CHECK(e.sha256.known());
  }
}

TEST_CASE("source manifest: a hard link is its file, on disk and in archives, chains too",
          "[source]") {
  TempDir dir;
  dir.Write("src/a.txt", "shared content\n", 0640);
  dir.Write("src/other.txt", "other\n");
  RunOrFail({"mkdir", "-p", dir.Sub("src/sub")});
  RunOrFail({"ln", dir.Sub("src/a.txt"), dir.Sub("src/b.txt")});
  RunOrFail({"ln", dir.Sub("src/a.txt"), dir.Sub("src/sub/c.txt")});
  RunOrFail({"tar", "-C", dir.Sub("src"), "-cf", dir.Sub("backup.tar"), "."});
  // A link to a link, which GNU tar never writes but an archive can hold.
  const std::string chain = dir.Sub("chain.tar");
  RunOrFail({"python3", "-c", R"py(
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("f"); i.size = 3; i.mode = 0o600; i.mtime = 1700000000
    t.addfile(i, io.BytesIO(b"abc"))
    for name, target in (("l1", "f"), ("l2", "l1")):
        i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
)py",
             chain});

  for (const std::string& configured : {dir.Sub("src"), dir.Sub("backup.tar"), chain}) {
    INFO(configured);
    base::Result<ResolvedSource> source = ResolveSource(configured);
    REQUIRE(source.ok());
    base::Result<std::vector<sync::ManifestEntry>> m = ManifestOf(*source);
    INFO(m.status().message());
    REQUIRE(m.ok());
    std::map<std::string, sync::ManifestEntry> by_path;
    for (const sync::ManifestEntry& e : *m) by_path[e.path] = e;
    const bool chained = configured == chain;
    const sync::ManifestEntry& file = by_path.at(chained ? "f" : "a.txt");
    CHECK(file.sha256.known());
    CHECK(file.size == (chained ? 3u : 15u));
    for (const char* link : chained ? std::vector<const char*>{"l1", "l2"}
                                    : std::vector<const char*>{"b.txt", "sub/c.txt"}) {
      INFO(link);
      sync::ManifestEntry expected = file;
      expected.path = link;
      CHECK(by_path.at(link) == expected);
    }
    if (!chained) CHECK(by_path.at("other.txt").sha256 != file.sha256);
  }
}

TEST_CASE("source: crafted archives are refused entry by entry", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  struct Row {
    const char* kind;
    const char* entry;
    const char* why;
  } rows[] = {
      {"hardlink-etc", "passwd", "hard link target \"/etc/passwd\": absolute path"},
      {"hardlink-later", "a", "hard link to \"b\", which is not an earlier entry"},
      {"device", "dev/mem", "device nodes are not restored"},
      {"symlink-then-file", "etc/cron.d/evil", "passes through the symlink \"etc\""},
      {"dotdot", "www/../../outside", "path climbs out with \"..\""},
      {"twice", "x",
       "appears twice in the source (as a file, then as a file); which one is the backup's is "
       "not clear"},
      {"file-then-dir", "x",
       "appears twice in the source (as a file, then as a directory); which one is the "
       "backup's is not clear"},
      {"dot-slash", "x",
       "appears twice in the source (as a file, then as a file); which one is the backup's is "
       "not clear"},
      {"hardlink-dir", "x", "hard link to a directory \"d\"; only files have hard links"},
      {"hardlink-symlink", "x", "hard link to a symlink \"s\"; only files have hard links"},
      {"hardlink-self", "y", "hard link to itself"},
      {"long-name", "a/nnn", "a name of 300 bytes is longer than 255"},
      {"staging", ".standbyctl-staging/f0",
       "\".standbyctl-staging\" is reserved for the restore's staging area"},
      {"long-symlink", "s", "symlink target of 5000 bytes is longer than 4095"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.kind) {
      std::string archive = dir.Sub(std::string(row.kind) + ".tar");
      CraftArchive(archive, row.kind);
      base::Result<std::map<std::string, Seen>> read = ReadAll(archive);
      REQUIRE_FALSE(read.ok());
      std::string entry = row.entry;
      if (entry == "a/nnn") entry = "a/" + std::string(300, 'n');
      CHECK(read.status().message() ==
            fmt::format("backup source {}: entry \"{}\": {}", archive, entry, row.why));
    }
  }
}

TEST_CASE("source: GNU tar -P archives with absolute and parent paths are refused", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  std::string absolute = dir.Sub("absolute.tar");
  RunOrFail({"tar", "-P", "-cf", absolute, dir.Sub("src/www/index.html")});
  base::Result<std::map<std::string, Seen>> read = ReadAll(absolute);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message().ends_with("\": absolute path"));

  std::string parent = dir.Sub("parent.tar");
  RunOrFail({"tar", "-P", "-C", dir.Sub("src/www"), "-cf", parent, "../data.bin"});
  read = ReadAll(parent);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() ==
        "backup source " + parent + ": entry \"../data.bin\": path climbs out with \"..\"");
}

TEST_CASE("source: truncated and corrupt archives are clear errors", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  std::string archive = dir.Sub("backup.tar.gz");
  RunOrFail({"tar", "-C", dir.Sub("src"), "-czf", archive, "."});
  struct stat st;
  REQUIRE(::stat(archive.c_str(), &st) == 0);
  REQUIRE(::truncate(archive.c_str(), st.st_size / 2) == 0);
  base::Result<std::map<std::string, Seen>> read = ReadAll(archive);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message().starts_with("backup source " + archive + ": "));

  std::string garbage = dir.Write("garbage.tar.zst", std::string(5000, 'z'));
  read = ReadAll(garbage);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message().starts_with("backup source " + garbage + ": "));
}

TEST_CASE("source: a FIFO in a backup directory is refused", "[source]") {
  TempDir dir;
  MakeBackupTree(dir);
  REQUIRE(::mkfifo(dir.Sub("src/www/pipe").c_str(), 0600) == 0);
  base::Result<std::map<std::string, Seen>> read = ReadAll(dir.Sub("src"));
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() ==
        "backup source " + dir.Sub("src") + ": entry \"www/pipe\": FIFOs are not restored");
}

}  // namespace
}  // namespace sb::restore
