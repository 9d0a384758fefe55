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
  CHECK(CheckRelativePath(std::string(5000, 'a')).message() == "path longer than 4096 bytes");
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
