#include "tests/support/agent_process.h"

#include <dirent.h>

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace sb::testing {
namespace {

int CountEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

}  // namespace

AgentProcess::AgentProcess(const TempDir& dir, const TestPki& pki, const std::string& data_root,
                           const std::string& extra)
    : pki_(pki), log_path_(dir.Sub("agent.log")), port_(FreePort()) {
  const std::string config =
      dir.Write("agent.toml",
                fmt::format("listen = \"127.0.0.1:{}\"\nrole = \"standby\"\ndata_roots = [\"{}\"]\n"
                            "state_dir = \"{}\"\nshutdown = [\"true\"]\n{}\n[tls]\nca = \"{}\"\n"
                            "cert = \"{}\"\nkey = \"{}\"\n",
                            port_, data_root, dir.Sub("agent-state"), extra, pki.standby_agent.ca,
                            pki.standby_agent.cert, pki.standby_agent.key));
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{STANDBY_AGENT_BIN, "--config", config}, log_path_);
  if (!WaitForPort("127.0.0.1", port_)) {
    throw std::runtime_error("the agent did not start:\n" + ReadWholeFile(log_path_));
  }
}

std::string AgentProcess::Log() const { return ReadWholeFile(log_path_); }

base::Result<std::unique_ptr<client::AgentClient>> AgentProcess::Controller() const {
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(pki_.controller);
  if (!tls.ok()) return tls.status();
  return client::AgentClient::Connect({{"127.0.0.1", static_cast<uint16_t>(port_)}, "web1-standby"},
                                      *tls);
}

AgentProcess::Usage AgentProcess::ReadUsage() const {
  const std::string proc = fmt::format("/proc/{}", pid());
  Usage u;
  u.threads = CountEntries(proc + "/task");
  u.fds = CountEntries(proc + "/fd");
  std::ifstream status(proc + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::stol(line.substr(6));
  }
  return u;
}

}  // namespace sb::testing
