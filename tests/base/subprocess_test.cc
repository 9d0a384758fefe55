#include "agent/base/subprocess.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::base {
namespace {

using std::chrono::milliseconds;

TEST_CASE("subprocess: output, exit code and stdin are passed through", "[subprocess]") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "cat; echo to-err >&2; exit 3"};
  spec.stdin_data = "hello";
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->out == "hello");
  CHECK(r->err == "to-err\n");
  CHECK_FALSE(r->timed_out);
  CHECK(r->Describe() == "exit 3");
}

TEST_CASE("subprocess: environment can be added and removed", "[subprocess]") {
  ::setenv("SB_TEST_DROPPED", "x", 1);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo \"$SB_TEST_ADDED/${SB_TEST_DROPPED:-gone}\""};
  spec.env = {{"SB_TEST_ADDED", "here"}};
  spec.unset_env = {"SB_TEST_DROPPED"};
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE(r.ok());
  CHECK(r->out == "here/gone\n");
}

TEST_CASE("subprocess: a child past its deadline is killed with its group", "[subprocess]") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "sleep 30 & echo $!; wait"};
  spec.timeout = milliseconds(300);
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->elapsed < milliseconds(5000));
  // The grandchild (sleep) was in the same group and must be gone too.
  pid_t grandchild = static_cast<pid_t>(std::stol(r->out));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {  // reaped by init shortly after
    gone = ::kill(grandchild, 0) != 0;
    if (!gone) ::usleep(20'000);
  }
  CHECK(gone);
}

TEST_CASE("subprocess: output beyond the cap is dropped and flagged", "[subprocess]") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "head -c 100000 /dev/zero"};
  spec.max_output_bytes = 1000;
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE(r.ok());
  CHECK(r->out.size() == 1000);
  CHECK(r->output_truncated);
  CHECK(r->success());
}

TEST_CASE("subprocess: a program that does not exist is an error naming it", "[subprocess]") {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/standbyctl-no-such-program"};
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "cannot run /nonexistent/standbyctl-no-such-program: No such file or directory");
}

TEST_CASE("subprocess: a child killed by a signal is reported as such", "[subprocess]") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "kill -TERM $$"};
  Result<ProcessResult> r = RunProcess(spec);
  REQUIRE(r.ok());
  CHECK(r->term_signal == SIGTERM);
  CHECK(r->Describe() == "killed by signal 15");
}

// Whether `pid` still runs: neither gone nor a zombie left for init.
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

TEST_CASE("test support: a background process dies with a test that ends without unwinding",
          "[subprocess]") {
  testing::TempDir dir;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t test = ::fork();
  REQUIRE(test >= 0);
  if (test == 0) {  // a test process that starts one, then aborts
    ::close(pipe_fds[0]);
    testing::BackgroundProcess sleeper({"/bin/sleep", "30"}, dir.Sub("sleep.log"));
    const pid_t pid = sleeper.pid();
    (void)!::write(pipe_fds[1], &pid, sizeof pid);
    ::_exit(1);  // no destructors, as after an abort
  }
  ::close(pipe_fds[1]);
  pid_t sleeper = -1;
  REQUIRE(::read(pipe_fds[0], &sleeper, sizeof sleeper) == sizeof sleeper);
  ::close(pipe_fds[0]);
  REQUIRE(::waitpid(test, nullptr, 0) == test);
  bool running = true;
  for (int i = 0; i < 200 && running; ++i) {
    running = Running(sleeper);
    if (running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (running) ::kill(sleeper, SIGKILL);  // by its pid, should the check fail
  CHECK_FALSE(running);
}

}  // namespace
}  // namespace sb::base
