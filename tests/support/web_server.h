// Test support: python3's http.server on a loopback address, serving a
// directory (tests/support/web_server.py), stopped by its pid.
#ifndef TESTS_SUPPORT_WEB_SERVER_H_
#define TESTS_SUPPORT_WEB_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

class WebServer {
 public:
  struct Options {
    int delay_ms = 0;         // before each answer
    bool keep_alive = false;  // HTTP/1.1; else HTTP/1.0, a connection per request
  };
  // Serves `root` on bind:port as `name` (its X-Served-By header); `tls` is
  // {CERT, KEY[, MAX_TLS[, CLIENT_CA]]} for HTTPS. Its log goes to
  // dir/NAME.log. Throws when it does not start listening.
  WebServer(const TempDir& dir, const std::string& bind, int port, const std::string& root,
            const std::string& name, const std::vector<std::string>& tls = {});
  WebServer(const TempDir& dir, const std::string& bind, int port, const std::string& root,
            const std::string& name, const Options& options);

  pid_t pid() const { return process_->pid(); }

 private:
  void Start(const TempDir& dir, const std::string& bind, int port,
             const std::vector<std::string>& argv, const std::string& name);

  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_WEB_SERVER_H_
