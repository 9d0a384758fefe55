// `standbyctl agent ping` and `standbyctl agent indicators`: talk to one agent
// over the mutually authenticated channel and print what it reports.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/client/agent_client.h"
#include "standby/cli/command.h"

namespace sb::cli {
namespace {

struct AgentArgs {
  std::string host;  // a standby's name or "primary"
  bool json = false;
};

// Finds the agent called `host` in the config: "primary" or a standby name.
base::Result<client::AgentTarget> FindAgent(const config::Config& config, const std::string& host) {
  if (host == "primary") {
    if (!config.primary) {
      return base::Status::Invalid(fmt::format("{} has no [primary] section", config.path));
    }
    return client::AgentTarget{config.primary->agent, config.primary->agent_name};
  }
  const config::StandbyConfig* standby = config.FindStandby(host);
  if (standby == nullptr) {
    return base::Status::Invalid(fmt::format("{} has no standby named \"{}\"", config.path, host));
  }
  return client::AgentTarget{standby->agent, standby->agent_name};
}

base::Result<std::unique_ptr<client::AgentClient>> ConnectTo(const config::Config& config,
                                                             const std::string& host) {
  base::Result<client::AgentTarget> target = FindAgent(config, host);
  if (!target.ok()) return target.status();
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config.controller.tls);
  if (!tls.ok()) return tls.status().WithContext("controller TLS");
  return client::AgentClient::Connect(*target, *tls);
}

// Connects to `host`'s agent and sends one request. Returns kExitOk with the
// agent and its reply, or the exit code after reporting: bad configuration
// is a usage error (2), an agent that cannot be reached or refuses is a
// failed check (1).
int AskAgent(const GlobalOptions& global, const std::string& host, std::string_view type,
             std::unique_ptr<client::AgentClient>* agent, nlohmann::json* reply) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  base::Result<std::unique_ptr<client::AgentClient>> connected = ConnectTo(*config, host);
  if (!connected.ok()) return ReportFailure(connected.status());
  base::Result<nlohmann::json> answer = (*connected)->Call(type);
  if (!answer.ok()) return ReportFailure(answer.status());
  *agent = std::move(*connected);
  *reply = std::move(*answer);
  return kExitOk;
}

int Ping(const GlobalOptions& global, const AgentArgs& args) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<client::AgentClient> agent;
  nlohmann::json info;
  if (int code = AskAgent(global, args.host, proto::type::kHostInfo, &agent, &info)) return code;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  const client::AgentHello& hello = agent->hello();
  if (args.json) {
    nlohmann::json out = info;
    out["role"] = hello.role;
    out["agent_version"] = hello.agent_version;
    out["protocol"] = hello.protocol;
    out["capabilities"] = hello.capabilities;
    out["round_trip_ms"] = ms;
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print("{}: {} agent {} (protocol {}) on {}, up {}, answered in {} ms\n", args.host,
             hello.role, hello.agent_version, hello.protocol,
             info.value("hostname", std::string("?")),
             base::FormatDuration(
                 base::Duration(static_cast<int64_t>(info.value("uptime_s", 0.0) * 1000))),
             ms);
  return kExitOk;
}

int Indicators(const GlobalOptions& global, const AgentArgs& args) {
  std::unique_ptr<client::AgentClient> agent;
  nlohmann::json j;
  if (int code = AskAgent(global, args.host, proto::type::kIndicators, &agent, &j)) return code;
  if (args.json) {
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{} indicators\n", args.host);
  fmt::print("  load            {} {} {}\n", j["load"][0].get<double>(), j["load"][1].get<double>(),
             j["load"][2].get<double>());
  for (const char* kind : {"cpu", "memory", "io"}) {
    const nlohmann::json& p = j["pressure"][kind];
    if (p.is_null()) {
      fmt::print("  pressure {:<6} not reported by this kernel\n", kind);
    } else {
      fmt::print("  pressure {:<6} some avg10 {:.2f}%\n", kind, p["some_avg10"].get<double>());
    }
  }
  const nlohmann::json& mem = j["memory"];
  fmt::print("  memory          {} of {} available, swap {} of {} free\n",
             base::FormatSize(mem["available_kb"].get<uint64_t>() * 1024),
             base::FormatSize(mem["total_kb"].get<uint64_t>() * 1024),
             base::FormatSize(mem["swap_free_kb"].get<uint64_t>() * 1024),
             base::FormatSize(mem["swap_total_kb"].get<uint64_t>() * 1024));
  const nlohmann::json& tcp = j["tcp"];
  fmt::print("  tcp             {} CLOSE_WAIT, {} TIME_WAIT\n", tcp["close_wait"].get<int>(),
             tcp["time_wait"].get<int>());
  for (const nlohmann::json& o : tcp["close_wait_owners"]) {
    fmt::print("    CLOSE_WAIT held by pid {} ({}): {} sockets\n", o["pid"].get<int>(),
               o["command"].get<std::string>(), o["sockets"].get<int>());
  }
  const nlohmann::json& eph = j["ephemeral_ports"];
  fmt::print("  ephemeral ports {} of {} in use ({}-{})\n", eph["in_use"].get<int>(),
             eph["size"].get<int>(), eph["low"].get<int>(), eph["high"].get<int>());
  return kExitOk;
}

}  // namespace

void AddAgentCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* agent =
      app.add_subcommand("agent", "Talk to a standby's or the primary's agent over mutual TLS");
  agent->require_subcommand(1);

  CLI::App* ping = agent->add_subcommand(
      "ping", "Connect to a standby's or the primary's agent, say Hello, and print who answered");
  auto ping_args = std::make_shared<AgentArgs>();
  // --host on both subcommands; --standby as the older spelling.
  ping->add_option("--host,--standby", ping_args->host, "\"primary\" or a standby's name")
      ->required();
  ping->add_flag("--json", ping_args->json, "Print JSON");
  ping->callback([action, ping_args, &global] {
    *action = [ping_args, &global] { return Ping(global, *ping_args); };
  });

  CLI::App* indicators = agent->add_subcommand(
      "indicators", "Print a host's load, pressure, memory, sockets and ephemeral ports");
  auto ind_args = std::make_shared<AgentArgs>();
  indicators->add_option("--host,--standby", ind_args->host, "\"primary\" or a standby's name")
      ->required();
  indicators->add_flag("--json", ind_args->json, "Print JSON");
  indicators->callback([action, ind_args, &global] {
    *action = [ind_args, &global] { return Indicators(global, *ind_args); };
  });
}

}  // namespace sb::cli
