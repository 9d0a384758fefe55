#include "tests/support/web_server.h"

#include <stdexcept>

namespace sb::testing {
namespace {

std::vector<std::string> Command() {
  return {"/usr/bin/python3", std::string(SOURCE_DIR) + "/tests/support/web_server.py"};
}

}  // namespace

WebServer::WebServer(const TempDir& dir, const std::string& bind, int port, const std::string& root,
                     const std::string& name, const std::vector<std::string>& tls) {
  std::vector<std::string> argv = Command();
  argv.insert(argv.end(), {bind, std::to_string(port), root, name});
  argv.insert(argv.end(), tls.begin(), tls.end());
  Start(dir, bind, port, argv, name);
}

WebServer::WebServer(const TempDir& dir, const std::string& bind, int port, const std::string& root,
                     const std::string& name, const Options& options) {
  std::vector<std::string> argv = Command();
  if (options.delay_ms > 0) argv.push_back("--delay-ms=" + std::to_string(options.delay_ms));
  if (options.keep_alive) argv.push_back("--keep-alive");
  argv.insert(argv.end(), {bind, std::to_string(port), root, name});
  Start(dir, bind, port, argv, name);
}

void WebServer::Start(const TempDir& dir, const std::string& bind, int port,
                      const std::vector<std::string>& argv, const std::string& name) {
  process_ = std::make_unique<BackgroundProcess>(argv, dir.Sub(name + ".log"));
  if (!WaitForPort(bind, port)) throw std::runtime_error("web server did not start");
}

}  // namespace sb::testing
