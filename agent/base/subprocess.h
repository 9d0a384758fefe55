// Running a child process with a deadline and captured, capped output.
//
// The child runs in its own process group, so a timeout kills it and anything
// it started. Only the given argv is run (no shell). RunProcess blocks the
// calling thread; concurrent calls from several threads are safe.

#ifndef AGENT_BASE_SUBPROCESS_H_
#define AGENT_BASE_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/status.h"

namespace sb::base {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  // Added to (or replacing in) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;
  std::string stdin_data;  // written to the child's stdin, which is then closed
  std::chrono::milliseconds timeout{60'000};
  uint64_t max_output_bytes = 1 << 20;  // per stream; the rest is read and dropped
  // Called in the parent with the child's pid once it runs; the child leads
  // its own process group, so kill(-pid, sig) reaches what it starts too.
  std::function<void(pid_t)> on_start;
};

struct ProcessResult {
  int exit_code = -1;      // when the child exited
  int term_signal = 0;     // when a signal ended it
  bool timed_out = false;  // killed by us at the deadline
  bool output_truncated = false;
  std::string out;
  std::string err;
  std::chrono::microseconds elapsed{0};

  bool success() const { return exit_code == 0 && !timed_out; }
  // "exit 3", "killed by signal 9", "timed out after 5s".
  std::string Describe() const;
};

// Runs the process to completion or its deadline. A Status error means it
// could not be started at all (the message names argv[0]); a child that runs
// and fails is a successful Result with a non-zero exit code.
Result<ProcessResult> RunProcess(const ProcessSpec& spec);

}  // namespace sb::base

#endif  // AGENT_BASE_SUBPROCESS_H_
