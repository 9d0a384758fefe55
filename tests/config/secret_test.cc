#include "standby/config/secret.h"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace sb::config {
namespace {

using sb::testing::TempDir;

TEST_CASE("secret: a private file is read without its trailing newline", "[secret]") {
  TempDir dir;
  std::string path = dir.Write("bmc.pass", "s3cret\n", 0600);
  base::Result<Secret> s = LoadSecret({SecretRef::Kind::kFile, path});
  REQUIRE(s.ok());
  CHECK(s->reveal() == "s3cret");
}

TEST_CASE("secret: a move leaves the moved-from secret empty", "[secret]") {
  Secret a("s3cret");
  Secret b(std::move(a));
  CHECK(b.reveal() == "s3cret");
  CHECK(a.reveal().empty());  // NOLINT(bugprone-use-after-move): what is tested
  Secret c("old");
  c = std::move(b);
  CHECK(c.reveal() == "s3cret");
  CHECK(b.reveal().empty());  // NOLINT(bugprone-use-after-move): what is tested
}

TEST_CASE("secret: a file others can read is refused and the secret not read", "[secret]") {
  TempDir dir;
  for (unsigned mode : {0640u, 0604u, 0660u, 0606u}) {
    std::string path = dir.Write("bmc.pass", "s3cret\n", mode);
    base::Result<Secret> s = LoadSecret({SecretRef::Kind::kFile, path});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == base::Code::kPermissionDenied);
    CHECK(s.status().message().find("s3cret") == std::string::npos);
    CHECK(s.status().message().find("chmod 600") != std::string::npos);
  }
}

TEST_CASE("secret: an environment variable is read, an unset one is named", "[secret]") {
  ::setenv("SB_TEST_SECRET", "from-env", 1);
  base::Result<Secret> s = LoadSecret({SecretRef::Kind::kEnv, "SB_TEST_SECRET"});
  REQUIRE(s.ok());
  CHECK(s->reveal() == "from-env");
  ::unsetenv("SB_TEST_SECRET");
  s = LoadSecret({SecretRef::Kind::kEnv, "SB_TEST_SECRET"});
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() ==
        "environment variable SB_TEST_SECRET (named by password_env) is not set");
}

TEST_CASE("secret: formatting a secret never shows its value", "[secret]") {
  Secret s("hunter2");
  CHECK(fmt::format("password={}", s) == "password=<redacted>");
  CHECK(SecretRef{SecretRef::Kind::kEnv, "BMC_PW"}.Describe() == "environment variable BMC_PW");
}

}  // namespace
}  // namespace sb::config
