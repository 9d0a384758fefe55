#include "agent/sync/path.h"

#include <catch2/catch.hpp>

namespace sb::sync {
namespace {

TEST_CASE("path: relative paths from sources and messages are checked", "[path]") {
  CHECK(CheckRelativePath("www/index.html").ok());
  CHECK(CheckRelativePath("").message() == "empty path");
  CHECK(CheckRelativePath("/etc").message() == "absolute path");
  CHECK(CheckRelativePath("a/../b").message() == "path climbs out with \"..\"");
  CHECK(CheckRelativePath("..").message() == "path climbs out with \"..\"");
  CHECK(CheckRelativePath("a//b").message() == "path is not normalized");
  CHECK(CheckRelativePath("a/./b").message() == "path is not normalized");
  CHECK(CheckRelativePath("a/").message() == "path is not normalized");
  CHECK(CheckRelativePath(std::string("a\0b", 3)).message() == "path contains a NUL byte");
  CHECK(CheckRelativePath(std::string(5000, 'a')).message() ==
        "path of 5000 bytes is longer than 4095");
  CHECK(CheckRelativePath("a/" + std::string(256, 'n')).message() ==
        "a name of 256 bytes is longer than 255");
  std::string deep;  // as deep as Linux allows: 2,048 names of one byte
  for (int i = 0; i < 2048; ++i) deep += i == 0 ? "d" : "/d";
  CHECK(CheckRelativePath(deep).ok());
  CHECK(CheckRelativePath(deep + "/x").message() == "path of 4097 bytes is longer than 4095");
  CHECK(CheckRelativePath(std::string(255, 'n')).ok());
}

TEST_CASE("path: symlink targets are what symlink(2) takes", "[path]") {
  CHECK(CheckSymlinkTarget("../www/index.html").ok());
  CHECK(CheckSymlinkTarget("/etc/passwd").ok());  // a symlink is never followed by a restore
  CHECK(CheckSymlinkTarget(std::string(4095, 'x')).ok());
  CHECK(CheckSymlinkTarget("").message() == "symlink without a target");
  CHECK(CheckSymlinkTarget(std::string(5000, 'x')).message() ==
        "symlink target of 5000 bytes is longer than 4095");
  CHECK(CheckSymlinkTarget(std::string("a\0b", 3)).message() ==
        "symlink target contains a NUL byte");
}

TEST_CASE("path: the staging area's name is reserved", "[path]") {
  CHECK(CheckRestorePath(".standbyctl-staging/f0").message() ==
        "\".standbyctl-staging\" is reserved for the restore's staging area");
  CHECK(CheckRestorePath(".standbyctl-staging").code() == base::Code::kInvalidArgument);
  CHECK(CheckRestorePath("www/.standbyctl-staging").ok());  // only at the top
  CHECK(CheckRestorePath(".standbyctl-stagingx").ok());
}

TEST_CASE("path: only paths inside the data roots pass", "[path]") {
  const std::vector<std::string> roots = {"/srv/www", "/var/lib/appdb"};
  CHECK(CheckUnderRoots("/srv/www", roots).ok());
  CHECK(CheckUnderRoots("/srv/www/site", roots).ok());
  CHECK(CheckUnderRoots("/srv/wwwx", roots).message() ==
        "/srv/wwwx is not under this agent's data_roots");
  CHECK(CheckUnderRoots("/etc", roots).code() == base::Code::kPermissionDenied);
  CHECK(CheckUnderRoots("/srv/www/../../etc", roots).message() ==
        "/srv/www/../../etc: path climbs out with \"..\"");
  CHECK(CheckUnderRoots("srv/www", roots).message() == "\"srv/www\" is not an absolute path");
  CHECK(CheckUnderRoots("/srv/www", {}).code() == base::Code::kPermissionDenied);
}

}  // namespace
}  // namespace sb::sync
