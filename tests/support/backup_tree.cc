#include "tests/support/backup_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace sb::testing {

void MakeBackupTree(const TempDir& dir, const std::string& name) {
  dir.Write(name + "/www/index.html", "<h1>hello</h1>\n", 0644);
  dir.Write(name + "/www/app/config.ini", "[app]\nport = 8080\n", 0600);
  std::string big(100'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  dir.Write(name + "/data.bin", big, 0640);
  REQUIRE(::mkdir(dir.Sub(name + "/empty").c_str(), 0750) == 0);
  REQUIRE(::symlink("www/index.html", dir.Sub(name + "/current").c_str()) == 0);
}

}  // namespace sb::testing
