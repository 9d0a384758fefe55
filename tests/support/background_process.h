// Test support: a process that runs while the test does (an agent, a
// simulator), stopped by its pid when the object goes away. Never by name.
// Killed by the kernel should the test process die without unwinding.

#ifndef TESTS_SUPPORT_BACKGROUND_PROCESS_H_
#define TESTS_SUPPORT_BACKGROUND_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>

#include <string>
#include <vector>

namespace sb::testing {

class BackgroundProcess {
 public:
  // Starts argv with stdout and stderr appended to `log_path`.
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();  // SIGTERM, then SIGKILL after 5 s, then reaped

  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits up to 5 s; returns the wait status (or -1).
  int Stop();
  // Waits up to `timeout` for the process to end by itself; returns the
  // wait status, or -1 when it is still running.
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
};

// Waits up to `timeout_ms` until something accepts TCP connections on
// host:port; false if nothing did.
bool WaitForPort(const std::string& host, int port, int timeout_ms = 10'000);

// A port that was free a moment ago on 127.0.0.1.
int FreePort();

// A socket of `type` (SOCK_STREAM or SOCK_DGRAM) bound to 127.0.0.1 on a free
// port, which goes to `*port`. The caller closes it.
int BindLoopback(int type, uint16_t* port);

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_BACKGROUND_PROCESS_H_
