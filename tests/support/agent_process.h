// Test support: the real standby-agent binary as a process of its own, with
// a standby config written for it (127.0.0.1 and a free port, a data root, a
// state dir, `extra` TOML lines), stopped by its pid when the object goes.
// What tests that look at the process from outside need: its log, and its
// threads, descriptors and memory read from /proc.

#ifndef TESTS_SUPPORT_AGENT_PROCESS_H_
#define TESTS_SUPPORT_AGENT_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "agent/client/agent_client.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

class AgentProcess {
 public:
  // Starts it and waits until it listens; fails the test if it does not.
  AgentProcess(const TempDir& dir, const TestPki& pki, const std::string& data_root,
               const std::string& extra = "");

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  std::string Log() const;  // everything it wrote to stderr so far

  // A controller connected with the right certificate, or the error.
  base::Result<std::unique_ptr<client::AgentClient>> Controller() const;

  struct Usage {
    int threads = 0;
    int fds = 0;
    long rss_kb = 0;
  };
  Usage ReadUsage() const;  // from /proc/PID

 private:
  const TestPki& pki_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_AGENT_PROCESS_H_
