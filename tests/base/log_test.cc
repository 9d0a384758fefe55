// Choosing the log format: journald's priorities when stderr is the journal.

#include "agent/base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace sb::base {
namespace {

TEST_CASE("log: the journal format is chosen when JOURNAL_STREAM names stderr", "[base]") {
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string old = saved ? saved : "";

  ::setenv("JOURNAL_STREAM", fmt::format("{}:{}", st.st_dev, st.st_ino).c_str(), 1);
  CHECK(ChooseLogFormat("text", false) == LogFormat::kJournal);
  // Given on the command line, the format is what was asked for.
  CHECK(ChooseLogFormat("text", true) == LogFormat::kText);
  CHECK(ChooseLogFormat("json", true) == LogFormat::kJson);
  // Inherited by a process whose stderr went elsewhere: not the journal.
  ::setenv("JOURNAL_STREAM", fmt::format("{}:{}", st.st_dev, st.st_ino + 1).c_str(), 1);
  CHECK(ChooseLogFormat("text", false) == LogFormat::kText);
  ::unsetenv("JOURNAL_STREAM");
  CHECK(ChooseLogFormat("text", false) == LogFormat::kText);
  CHECK(ChooseLogFormat("journal", true) == LogFormat::kJournal);

  if (saved) ::setenv("JOURNAL_STREAM", old.c_str(), 1);
}

}  // namespace
}  // namespace sb::base
