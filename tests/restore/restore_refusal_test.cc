// Restores that must be refused, end to end with a real agent: before
// anything is staged (a source that came up empty, one that would not fit,
// entries or times the target cannot take; the dry run refuses the same) or
// by the agent's check before its commit point; and a refused restore
// changes nothing, the target's own times included.

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "agent/client/remote_restore.h"
#include "agent/client/remote_scan.h"
#include "agent/sync/target_fs.h"
#include "standby/restore/restore_run.h"
#include "tests/support/backup_tree.h"
#include "tests/support/restore_rig.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/tree_compare.h"

namespace sb::restore {
namespace {

using Rig = sb::testing::RestoreRig;
using sb::testing::DescribeTree;
using sb::testing::MakeNewTree;
using sb::testing::RunOrFail;
using sb::testing::Sh;
using sb::testing::TreeDifference;

TEST_CASE("restore: a source that came up empty is refused before it deletes the target",
          "[restore][e2e]") {
  Rig rig;
  rig.SeedOldTree();
  const std::vector<std::string> before = rig.Snapshot();
  const std::string entries = std::to_string(DescribeTree(rig.target).size());
  // An unmounted backup disk reads as an empty directory; a failed backup
  // job may leave a valid, empty tar.
  REQUIRE(base::MakeDirectories(rig.dir.Sub("unmounted"), 0755).ok());
  RunOrFail({"tar", "-cf", rig.dir.Sub("empty.tar"), "-T", "/dev/null"});
  for (const std::string& source : {rig.dir.Sub("unmounted"), rig.dir.Sub("empty.tar")}) {
    INFO(source);
    const std::string why = fmt::format(
        "the restore would delete {} of the {} entries in target {}, more than max_delete = 50% "
        "allows ({})",
        entries, entries, rig.target, std::stoi(entries) / 2);
    base::ProcessResult dry = rig.Restore(source, {"--dry-run"});
    CHECK(dry.exit_code == 1);
    CHECK(dry.err.find("would be refused: " + why) != std::string::npos);
    base::ProcessResult r = rig.Restore(source);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("failed: " + why) != std::string::npos);
    CHECK(r.err.find("--allow-mass-delete") != std::string::npos);
    CHECK(rig.Snapshot() == before);
  }

  // A count instead of a percentage: this month's backup deletes 9 entries.
  MakeNewTree(rig.dir);
  rig.mapping_extra = "max_delete = 8\n";
  base::ProcessResult r = rig.Restore(rig.dir.Sub("src"));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("would delete 9 of the " + entries + " entries in target " + rig.target +
                   ", more than max_delete = 8 allows (8)") != std::string::npos);
  CHECK(rig.Snapshot() == before);
  rig.mapping_extra = "max_delete = 9\n";
  r = rig.Restore(rig.dir.Sub("src"));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(TreeDifference(rig.dir.Sub("src"), rig.target) == "");

  // Intended: the operator says so.
  rig.mapping_extra = "";
  r = rig.Restore(rig.dir.Sub("unmounted"), {"--allow-mass-delete"});
  CHECK(r.exit_code == 0);
  CHECK(DescribeTree(rig.target).empty());
}

TEST_CASE("restore: the dry run refuses what the real restore refuses, and both change nothing",
          "[restore][e2e]") {
  Rig rig;
  rig.dir.Write("good/www/index.html", "<h1>ok</h1>\n");
  RunOrFail({"rsync", "-a", rig.dir.Sub("good") + "/", rig.target + "/"});
  Sh("touch -d @1600000000 " + rig.target);
  const std::vector<std::string> before = rig.Snapshot();
  struct Row {
    const char* kind;
    std::string why;
  } rows[] = {
      {"twice", "entry \"x\": appears twice in the source (as a file, then as a file)"},
      {"file-then-dir",
       "entry \"x\": appears twice in the source (as a file, then as a directory)"},
      {"dot-slash", "entry \"x\": appears twice in the source"},
      {"hardlink-dir", "entry \"x\": hard link to a directory \"d\"; only files have hard links"},
      {"hardlink-symlink", "entry \"x\": hard link to a symlink \"s\"; only files have hard links"},
      {"hardlink-self", "entry \"y\": hard link to itself"},
      {"long-name", "a name of 300 bytes is longer than 255"},
      {"staging",
       "entry \".standbyctl-staging/f0\": \".standbyctl-staging\" is reserved for the restore's "
       "staging area"},
      {"long-symlink", "entry \"s\": symlink target of 5000 bytes is longer than 4095"},
      {"no room", "must leave keep_free = 1000000.0 TiB"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.kind) {
      std::string source = rig.dir.Sub(std::string(row.kind) + ".tar");
      if (row.why.starts_with("must leave")) {  // a good archive, a target without room
        RunOrFail({"tar", "-C", rig.dir.Sub("good"), "-cf", source, "."});
        rig.mapping_extra = "keep_free = \"1000000TiB\"\n";
      } else {
        sb::testing::CraftArchive(source, row.kind);
      }
      base::ProcessResult dry = rig.Restore(source, {"--dry-run"});
      base::ProcessResult real = rig.Restore(source);
      INFO(dry.err);
      INFO(real.err);
      CHECK(dry.exit_code == 1);
      CHECK(real.exit_code == 1);
      CHECK(dry.err.find(row.why) != std::string::npos);
      CHECK(real.err.find(row.why) != std::string::npos);
      CHECK(rig.Snapshot() == before);
      // The target still converges from a good source.
      rig.mapping_extra = "";
      rig.dir.Write("good/www/new.html", "new\n");
      base::ProcessResult good = rig.Restore(rig.dir.Sub("good"));
      CHECK(good.exit_code == 0);
      CHECK(TreeDifference(rig.dir.Sub("good"), rig.target) == "");
    }
  }
}

TEST_CASE("restore: a tar bomb is refused from its entries' sizes, before its data is read",
          "[restore][e2e]") {
  Rig rig;
  rig.SeedOldTree();
  const std::vector<std::string> before = rig.Snapshot();
  // 1 TiB of holes: a few KiB of archive. Hashing it would take hours; the
  // runner's 60 s deadline would end the test first.
  Sh("mkdir " + rig.dir.Sub("bomb") + " && truncate -s 1T " + rig.dir.Sub("bomb/zeros.img") +
     " && tar -C " + rig.dir.Sub("bomb") + " --sparse -czf " + rig.dir.Sub("bomb.tar.gz") + " .");
  for (const char* flag : {"--dry-run", "--list"}) {
    base::ProcessResult r = rig.Restore(rig.dir.Sub("bomb.tar.gz"), {flag});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    // 1 TiB less what the target's files hold (the agent sent their sizes
    // added, not each entry).
    CHECK(r.err.find("the restore stages at least 1024.0 GiB (the sizes the source's entries "
                     "declare, before any of their data is read)") != std::string::npos);
  }
  CHECK(rig.Snapshot() == before);
}

TEST_CASE("restore: a refused restore changes nothing in the target, its times included",
          "[restore][e2e]") {
  Rig rig;
  MakeOldTree(rig.dir);
  rig.dir.Write("src/a.txt", "a\n");
  RunOrFail({"python3", "-c", R"py(
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("ok.txt"); i.size = 3; t.addfile(i, io.BytesIO(b"ok\n"))
    i = tarfile.TarInfo("dev"); i.type = tarfile.CHRTYPE; t.addfile(i)
)py",
             rig.dir.Sub("device.tar")});
  struct Row {
    const char* name;
    std::string source;
    std::string mapping_extra;
    std::string why;
  } rows[] = {
      {"too many deletes", rig.dir.Sub("src"), "", "more than max_delete"},
      {"no room", rig.dir.Sub("old"), "keep_free = \"1000000TiB\"\nmax_delete = \"100%\"\n",
       "must leave keep_free"},
      {"a bad entry", rig.dir.Sub("device.tar"), "max_delete = \"100%\"\n",
       "device nodes are not restored"},
      {"no source", rig.dir.Sub("missing"), "", "No such file or directory"},
  };
  for (const bool existing : {true, false}) {
    for (const Row& row : rows) {
      if (!existing && row.why == "more than max_delete") continue;  // nothing to delete
      DYNAMIC_SECTION(row.name << (existing ? ", existing target" : ", new target")) {
        Sh("rm -rf " + rig.target);
        if (existing) {
          RunOrFail({"rsync", "-aH", rig.dir.Sub("old") + "/", rig.target + "/"});
          Sh("touch -d @1600000000 " + rig.target);
        }
        const std::vector<std::string> before = rig.Snapshot();
        rig.mapping_extra = row.mapping_extra;
        base::ProcessResult r = rig.Restore(row.source);
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(row.why) != std::string::npos);
        CHECK(rig.Snapshot() == before);
      }
    }
  }
}

// Changes that would fail after the commit point, sent straight to the

TEST_CASE("restore: a time the target's filesystem cannot store is refused before staging",
          "[restore][e2e]") {
  Rig rig;
  REQUIRE(base::MakeDirectories(rig.target, 0755).ok());
  std::unique_ptr<client::AgentClient> probe = rig.agent.Controller();
  client::ScanInfo info;
  REQUIRE(client::ScanRemote(*probe, rig.target, &info).ok());
  REQUIRE(info.times.has_value());
  if (info.times->min_s <= -2208988800) {
    WARN("not run: the test machine's filesystem stores 1900-01-01");
    return;
  }
  rig.dir.Write("good/www/index.html", "<h1>ok</h1>\n");
  RunOrFail({"rsync", "-a", rig.dir.Sub("good") + "/", rig.target + "/"});
  const std::vector<std::string> before = rig.Snapshot();
  const std::string range = sync::FormatUtcSeconds(info.times->min_s) + " to " +
                            sync::FormatUtcSeconds(info.times->max_s);

  // A file dated 1900-01-01 (in a pax header: no filesystem here keeps it).
  RunOrFail({"python3", "-c", R"py(
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    t.add(sys.argv[2], arcname="www", recursive=True)
    i = tarfile.TarInfo("www/1900.txt"); i.size = 4; i.mtime = -2208988800
    t.addfile(i, io.BytesIO(b"old\n"))
)py",
             rig.dir.Sub("old.tar"), rig.dir.Sub("good/www")});
  for (const std::string& source : {rig.dir.Sub("old.tar")}) {
    INFO(source);
    const std::string why =
        "entry \"www/1900.txt\": its time 1900-01-01T00:00:00Z cannot be "
        "stored by the target's filesystem, which keeps " +
        range;
    base::ProcessResult dry = rig.Restore(source, {"--dry-run"});
    CHECK(dry.exit_code == 1);
    CHECK(dry.err.find(why) != std::string::npos);
    base::ProcessResult r = rig.Restore(source);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(why) != std::string::npos);
    CHECK(r.err.find("nothing was changed: the target keeps its state") != std::string::npos);
    CHECK(rig.Snapshot() == before);
  }

  // A crafted message the controller would never send is refused by the
  // agent's own check, before its journal.
  std::unique_ptr<client::AgentClient> agent = rig.agent.Controller();
  std::string recovered;
  base::Result<client::RemoteRestore> remote =
      client::RemoteRestore::Begin(*agent, rig.target, &recovered, PlanOptions().whole_file_below);
  REQUIRE(remote.ok());
  REQUIRE(remote
              ->AddChange({{"op", "dir"},
                           {"path", "old"},
                           {"mode", 0755},
                           {"mtime_ns", int64_t{-2208988800} * 1'000'000'000}})
              .ok());
  client::RemoteRestore::CommitPoint point;
  CHECK(remote->Commit(&point).status().message() ==
        rig.target +
            "/old: its time 1900-01-01T00:00:00Z cannot be stored by the target's "
            "filesystem, which keeps " +
            range + " (it would be clamped, and the target would differ from the backup)");
  CHECK(point == client::RemoteRestore::CommitPoint::kNotReached);
  CHECK(rig.Snapshot() == before);
}

}  // namespace
}  // namespace sb::restore
