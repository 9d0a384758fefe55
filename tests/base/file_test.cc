// Files written atomically: whole, or not at all, with the mode asked for;
// a write in pieces that fails part way leaves the file as it was.

#include "agent/base/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace sb::base {
namespace {

using testing::TempDir;

TEST_CASE("file: an atomic write in pieces is whole or not at all", "[base]") {
  TempDir dir;
  const std::string path = dir.Write("state", "the old contents\n", 0600);

  const std::vector<std::string> pieces = {"one ", "two ", "three\n"};
  REQUIRE(WriteFileAtomically(
              path,
              [&](const PieceWriter& write) {
                for (const std::string& p : pieces) SB_RETURN_IF_ERROR(write(p));
                return Status::Ok();
              },
              0640)
              .ok());
  CHECK(testing::ReadWholeFile(path) == "one two three\n");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);

  // Failing after a piece is written: the error comes back, the file is
  // as it was and no temporary file is left beside it.
  const Status failed = WriteFileAtomically(
      path,
      [&](const PieceWriter& write) {
        SB_RETURN_IF_ERROR(write("half of it"));
        return Status::IoError("the source of the rest broke");
      },
      0600);
  CHECK(failed.message() == "the source of the rest broke");
  CHECK(testing::ReadWholeFile(path) == "one two three\n");
  CHECK(::stat((path + "." + std::to_string(::getpid()) + ".tmp").c_str(), &st) != 0);

  // A directory that does not exist: named in the error, nothing written.
  const Status missing = WriteFileAtomically(
      dir.Sub("no/such/dir/file"), [&](const PieceWriter& write) { return write("x"); }, 0600);
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find(dir.Sub("no/such/dir/file")) != std::string::npos);
}

}  // namespace
}  // namespace sb::base
