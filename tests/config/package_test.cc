// The two Debian packages (schedules/CMakeLists.txt, CPack in the top-level
// CMakeLists.txt), built by cpack from this build tree as a user's
// `cpack -G DEB` would: what each holds, its Depends, that it unpacks into a
// scratch root where the programs run and the units, sysusers.d and
// tmpfiles.d entries are valid, and that lintian finds nothing wrong.
// scripts/package makes the same packages from a Release build with
// Debian's hardening flags. Not built under the sanitizers: packages are
// never made from that build.

#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sb::config {
namespace {

namespace fs = std::filesystem;
using sb::testing::ReadWholeFile;

base::ProcessResult Run(std::vector<std::string> argv, int timeout_s = 120,
                        std::vector<std::pair<std::string, std::string>> env = {}) {
  base::ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = {{"LC_ALL", "C.UTF-8"}, {"SYSTEMD_COLORS", "0"}, {"SYSTEMD_PAGER", ""}};
  spec.env.insert(spec.env.end(), env.begin(), env.end());
  spec.timeout = std::chrono::seconds(timeout_s);
  spec.max_output_bytes = 8 << 20;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  INFO(spec.argv[0]);
  REQUIRE(r.ok());  // cpack, dpkg-deb, lintian, systemd-*: installed by scripts/setup
  return *r;
}

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The field of a `dpkg-deb --field` control file.
std::string Field(const std::string& deb, const std::string& name) {
  base::ProcessResult r = Run({"dpkg-deb", "--field", deb, name});
  REQUIRE(r.success());
  std::string v = r.out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string FindDeb(const std::string& dir, const std::string& package) {
  const std::regex name(package + "_" STANDBY_VERSION "_[a-z0-9]+\\.deb");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (std::regex_match(entry.path().filename().string(), name)) return entry.path().string();
  }
  return "";
}

void CheckStripped(const std::string& binary) {
  INFO(binary);
  base::ProcessResult r = Run({"readelf", "--section-headers", "--wide", binary});
  REQUIRE(r.success());
  CHECK(Has(r.out, ".text"));
  CHECK_FALSE(Has(r.out, ".symtab"));
  CHECK_FALSE(Has(r.out, ".debug_info"));
}

// The lines of lintian's output that are errors or warnings ("E: ..." and
// "W: ..."); its informational tags are not asked for.
std::vector<std::string> LintianComplaints(const std::string& out) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    if (line.rfind("E: ", 0) == 0 || line.rfind("W: ", 0) == 0) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

TEST_CASE("package: cpack builds the two packages, they unpack and run, lintian is clean",
          "[package]") {
  sb::testing::TempDir dir;
  const std::string config = BUILD_DIR "/CPackConfig.cmake";
  base::ProcessResult cpack =
      Run({"cpack", "-G", "DEB", "--config", config, "-B", dir.Sub("out")}, 300);
  INFO(cpack.out << cpack.err);
  REQUIRE(cpack.success());
  const std::string controller = FindDeb(dir.Sub("out"), "standbyctl");
  const std::string agent = FindDeb(dir.Sub("out"), "standby-agent");
  REQUIRE_FALSE(controller.empty());
  REQUIRE_FALSE(agent.empty());

  // The control fields: the names, the version, and runtime Depends from
  // dpkg-shlibdeps (the libraries each program links, with versions).
  CHECK(Field(controller, "Package") == "standbyctl");
  CHECK(Field(agent, "Package") == "standby-agent");
  CHECK(Field(controller, "Version") == STANDBY_VERSION);
  CHECK(Field(controller, "Section") == "admin");
  const std::string controller_depends = Field(controller, "Depends");
  const std::string agent_depends = Field(agent, "Depends");
  INFO("standbyctl Depends: " << controller_depends);
  INFO("standby-agent Depends: " << agent_depends);
  for (const char* lib : {"libc6 (>= ", "libssl3 (>= ", "librsync2 (>= ", "libarchive13 (>= ",
                          "libcurl4 (>= ", "libsqlite3-0 (>= ", "libldns3 (>= "}) {
    CHECK(Has(controller_depends, lib));
  }
  for (const char* lib : {"libc6 (>= ", "libssl3 (>= ", "librsync2 (>= "}) {
    CHECK(Has(agent_depends, lib));
  }
  // The agent runs on the standby and the primary: it does not pull in the
  // controller's libraries.
  CHECK_FALSE(Has(agent_depends, "libcurl"));
  CHECK_FALSE(Has(agent_depends, "libldns"));
  base::ProcessResult info = Run({"dpkg-deb", "--info", controller});
  REQUIRE(info.success());
  CHECK(Has(info.out, " postinst"));
  CHECK(Has(info.out, " md5sums"));

  // Unpacked into a scratch root, both packages side by side.
  const std::string root = dir.Sub("root");
  REQUIRE(Run({"dpkg", "-x", controller, root}).success());
  REQUIRE(Run({"dpkg", "-x", agent, root}).success());
  const std::string standbyctl = root + "/usr/bin/standbyctl";
  const std::string standby_agent = root + "/usr/sbin/standby-agent";
  for (const std::string rel : {"/usr/bin/standbyctl",
                                "/usr/sbin/standby-agent",
                                "/lib/systemd/system/standbyctl-daemon.service",
                                "/lib/systemd/system/standbyctl-drill@.service",
                                "/lib/systemd/system/standbyctl-drill@.timer",
                                "/lib/systemd/system/standbyctl-metrics.service",
                                "/lib/systemd/system/standbyctl-metrics.timer",
                                "/lib/systemd/system/standbyctl-notify@.service",
                                "/lib/systemd/system/standby-agent.service",
                                "/lib/systemd/system/standby-agent-primary.service",
                                "/usr/lib/sysusers.d/standbyctl.conf",
                                "/usr/lib/tmpfiles.d/standbyctl.conf",
                                "/usr/lib/standbyctl/virsh-power-status",
                                "/usr/share/man/man1/standbyctl.1.gz",
                                "/usr/share/man/man8/standby-agent.8.gz",
                                "/usr/share/bash-completion/completions/standbyctl",
                                "/usr/share/doc/standbyctl/copyright",
                                "/usr/share/doc/standbyctl/changelog.gz",
                                "/usr/share/doc/standbyctl/README.md",
                                "/usr/share/doc/standbyctl/examples/monthly-drill.toml",
                                "/usr/share/doc/standbyctl/examples/failover-prep.toml",
                                "/usr/share/doc/standby-agent/copyright",
                                "/usr/share/doc/standby-agent/examples/agent-standby.toml",
                                "/usr/share/doc/standby-agent/examples/agent-primary.toml"}) {
    INFO(rel);
    CHECK(fs::exists(root + rel));
  }
  struct stat st {};
  REQUIRE(::stat((root + "/usr/lib/standbyctl/virsh-power-status").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  CheckStripped(standbyctl);
  CheckStripped(standby_agent);

  // The programs run from where the package put them.
  base::ProcessResult version = Run({standbyctl, "--version"});
  CHECK(version.out == "standbyctl " STANDBY_VERSION "\n");
  CHECK(Run({standby_agent, "--version"}).out == "standby-agent " STANDBY_VERSION "\n");
  base::ProcessResult check = Run({standbyctl, "config", "check",
                                   root + "/usr/share/doc/standbyctl/examples/"
                                          "monthly-drill.toml"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);

  // The units name the programs where the package put them (not the
  // /usr/local of the source tree) and pass systemd-analyze verify in the
  // scratch root.
  const std::string daemon = ReadWholeFile(root + "/lib/systemd/system/standbyctl-daemon.service");
  CHECK(Has(daemon, "ExecStart=/usr/bin/standbyctl "));
  CHECK(Has(daemon, "Documentation=man:standbyctl(1)"));
  CHECK_FALSE(Has(daemon, "/usr/local"));
  const std::string agent_unit =
      ReadWholeFile(root + "/lib/systemd/system/standby-agent-primary.service");
  CHECK(Has(agent_unit, "ExecStart=/usr/sbin/standby-agent "));
  CHECK(Has(agent_unit, "Documentation=man:standby-agent(8)"));
  // systemd-analyze verify checks that ExecStart= programs exist here, so
  // the copies it reads name them inside the scratch root.
  std::vector<std::string> verify = {"systemd-analyze", "verify"};
  const std::string in_root = "=" + root + "/usr/$1/";
  for (const auto& entry : fs::directory_iterator(root + "/lib/systemd/system")) {
    std::string unit = ReadWholeFile(entry.path().string());
    unit = std::regex_replace(unit, std::regex("=/usr/(s?bin)/"), in_root);
    verify.push_back(dir.Write("verify/" + entry.path().filename().string(), unit));
  }
  REQUIRE(verify.size() == 2 + 8);
  // (verify looks the Documentation= man pages up: the package's own.)
  base::ProcessResult verified = Run(verify, 120, {{"MANPATH", root + "/usr/share/man"}});
  INFO(verified.err);
  CHECK(verified.exit_code == 0);
  CHECK(verified.err.empty());

  // The sysusers.d entry makes the user, the tmpfiles.d entry its state
  // directory: applied to the scratch root, as the postinst applies them to /.
  fs::create_directories(root + "/etc");
  base::ProcessResult users = Run({"systemd-sysusers", "--root=" + root});
  INFO(users.err);
  REQUIRE(users.success());
  CHECK(Has(ReadWholeFile(root + "/etc/passwd"), "standbyctl:x:"));
  base::ProcessResult tmpfiles = Run({"systemd-tmpfiles", "--root=" + root, "--create"});
  INFO(tmpfiles.err);
  CHECK(tmpfiles.success());
  REQUIRE(::stat((root + "/var/lib/standbyctl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(Run({"sh", "-n", SOURCE_DIR "/schedules/debian/standbyctl/postinst"}).success());
  CHECK(Run({"sh", "-n", SOURCE_DIR "/schedules/debian/standby-agent/postinst"}).success());

  // The man pages are the programs' own help, with the sections added.
  base::ProcessResult man = Run({"man", "--local-file", "--no-hyphenation", "--no-justification",
                                 root + "/usr/share/man/man1/standbyctl.1.gz"});
  REQUIRE(man.success());
  CHECK(Has(man.out, "standbyctl - prove that a cold standby server can take over"));
  CHECK(Has(man.out, "Subcommands:"));
  CHECK(Has(man.out, "EXIT STATUS"));
  CHECK(std::regex_search(man.out, std::regex("\\n\\s+drill\\s")));
  CHECK(Has(ReadWholeFile(root + "/usr/share/bash-completion/completions/standbyctl"),
            "complete -F"));

  // lintian: no errors, no warnings.
  base::ProcessResult lint = Run({"lintian", "--tag-display-limit", "0", controller, agent}, 600);
  INFO(lint.out << lint.err);
  CHECK(LintianComplaints(lint.out).empty());
  CHECK(lint.exit_code == 0);
}

TEST_CASE("package: the lintian check can fail", "[package]") {
  // A package without a copyright file or a changelog: lintian says so, and
  // the check above would see it.
  sb::testing::TempDir dir;
  dir.Write("pkg/DEBIAN/control",
            "Package: sb-broken\nVersion: 1.0\nArchitecture: all\n"
            "Maintainer: standbyctl developers <standbyctl@example.org>\n"
            "Description: a broken package\n a broken package for a test\n");
  dir.Write("pkg/usr/share/sb-broken/file", "x\n");
  REQUIRE(Run({"dpkg-deb", "--root-owner-group", "--build", dir.Sub("pkg"), dir.Sub("b.deb")})
              .success());
  base::ProcessResult lint = Run({"lintian", dir.Sub("b.deb")}, 300);
  std::vector<std::string> complaints = LintianComplaints(lint.out);
  INFO(lint.out);
  CHECK_FALSE(complaints.empty());
  CHECK(Has(lint.out, "no-copyright-file"));
  CHECK(lint.exit_code != 0);
}

}  // namespace
}  // namespace sb::config
