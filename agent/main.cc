// standby-agent: runs on the standby (role standby) and on the primary (role
// primary), serving the controller over mutual TLS. Wires config, TLS and the
// server together, then waits for SIGTERM or SIGINT. It always runs in the
// foreground: systemd (or a test) supervises it, and logs go to stderr.

#include <signal.h>

#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "agent/base/log.h"
#include "agent/server/agent_config.h"
#include "agent/server/agent_server.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app(
      "standby-agent serves standbyctl over mutual TLS: host information and indicators, "
      "allow-listed commands, and (standby role only) restores, shutdown and the lease that "
      "shuts the host down when the controller stops renewing it.\n\n"
      "Exit codes: 0 stopped cleanly, 2 usage or configuration error, 3 internal error.",
      "standby-agent");
  app.set_version_flag("--version", std::string("standby-agent ") + STANDBY_VERSION);
  std::string config_path = "/etc/standbyctl/agent.toml";
  std::string log_format = "text";
  std::string log_level = "info";
  bool check_only = false;
  app.add_option("--config", config_path, "Configuration file")->capture_default_str();
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  app.add_option("--log-format", log_format,
                 "Log lines on stderr as text, json, or journal (syslog priorities; the default "
                 "when stderr is the journal)")
      ->check(CLI::IsMember({"text", "json", "journal"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Least severe log level shown")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  sb::base::Status s = sb::base::InitLogging(
      "standby-agent",
      sb::base::ChooseLogFormat(log_format, app.get_option("--log-format")->count() > 0),
      log_level);
  if (!s.ok()) {
    std::fprintf(stderr, "standby-agent: %s\n", s.message().c_str());
    return 2;
  }
  sb::base::Result<sb::agent::AgentConfig> config = sb::agent::LoadAgentConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 2;
  }
  sb::base::Result<sb::net::TlsContext> tls = sb::net::TlsContext::ForServer(config->tls);
  if (!tls.ok()) {
    std::fprintf(stderr, "%s: %s\n", config_path.c_str(), tls.status().message().c_str());
    return 2;
  }
  if (check_only) {
    std::printf("%s: ok (%s role, %zu allow-listed commands)\n", config_path.c_str(),
                std::string(sb::agent::RoleName(config->role)).c_str(), config->commands.size());
    return 0;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sb::agent::AgentServer server(*config, *tls);
  s = server.Start();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 3;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("stopping on signal {}", signal_number);
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error value, not a death
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "standby-agent: internal error: %s\n", e.what());
    return 3;
  }
}
