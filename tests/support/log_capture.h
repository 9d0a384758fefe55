// Test support: captures what the code under test logs through spdlog, so a
// test can assert that a refusal was logged with its reason.

#ifndef TESTS_SUPPORT_LOG_CAPTURE_H_
#define TESTS_SUPPORT_LOG_CAPTURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace sb::testing {

class LogCapture {
 public:
  LogCapture();   // installs itself as spdlog's default logger
  ~LogCapture();  // restores the previous one

  std::vector<std::string> Lines() const;
  // Waits up to `timeout` for a line containing every one of `parts`.
  bool WaitFor(const std::vector<std::string>& parts,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  std::string Dump() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_LOG_CAPTURE_H_
