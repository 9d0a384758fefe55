// `standbyctl power status|on|off|soft-off --standby NAME`: drive a
// standby's power through its configured driver and say how the result was
// confirmed.

#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "standby/cli/command.h"
#include "standby/power/agent_link.h"
#include "standby/power/confirmed_off.h"

namespace sb::cli {
namespace {

struct PowerArgs {
  std::string action;
  std::string standby;
  bool json = false;
  bool force = false;
};

// How long `on` waits for a BMC to report on before saying it did not.
constexpr std::chrono::seconds kOnConfirmTimeout{30};

void Print(const PowerArgs& args, const std::string& state, const std::string& how,
           const std::vector<std::string>& steps = {}) {
  if (args.json) {
    nlohmann::json out = {{"standby", args.standby},
                          {"action", args.action},
                          {"state", state},
                          {"confirmed_by", how}};
    if (!steps.empty()) out["steps"] = steps;
    fmt::print("{}\n", out.dump(2));
    return;
  }
  for (const std::string& step : steps) fmt::print("  {}\n", step);
  fmt::print("{}: {} ({})\n", args.standby, state, how);
}

int RunPower(const GlobalOptions& global, const PowerArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  // The steps are printed once, below; the info log would say them again.
  if (!args.json && !global.log_level_given) spdlog::set_level(spdlog::level::warn);
  const config::StandbyConfig* standby = config->FindStandby(args.standby);
  if (standby == nullptr) {
    fmt::print(stderr, "standbyctl: {} has no standby named \"{}\"\n", config->path, args.standby);
    return kExitUsage;
  }
  // Status only reads; the others would cut into a drill or a hold.
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<drill::DrillLock> lock;
  if (args.action != "status") {
    base::Result<std::unique_ptr<store::StateStore>> opened = OpenStateStore(*config);
    if (!opened.ok()) return ReportError(opened.status());
    store = std::move(*opened);
    std::optional<std::unique_ptr<drill::DrillLock>> taken =
        LockForManualCommand(*config, *store, standby->name, args.force, "power " + args.action);
    if (!taken) return kExitUsage;
    lock = std::move(*taken);
  }
  power::AgentLink agent({standby->agent, standby->agent_name}, config->controller.tls);
  base::Result<std::unique_ptr<power::PowerDriver>> driver =
      power::MakePowerDriver(*standby, &agent);
  if (!driver.ok()) return ReportFailure(driver.status());
  power::PowerDriver& d = **driver;

  if (args.action == "status") {
    base::Result<power::PowerReading> r = d.Status();
    if (!r.ok()) return ReportFailure(r.status());
    Print(args, std::string(power::PowerStateName(r->state)), r->how);
    return kExitOk;
  }
  if (args.action == "on") {
    base::Status s = d.On();
    if (!s.ok()) return ReportFailure(s);
    // Nothing guards it now: no drill, no lease, no max_exposure.
    (void)store->AddEvent(std::nullopt, "warn",
                          fmt::format("standby {} powered on by hand (standbyctl power on, pid "
                                      "{}); it stays up, unguarded, until powered off",
                                      standby->name, ::getpid()),
                          store::Timestamp::Now().wall_ms);
    fmt::print(stderr,
               "standbyctl: WARNING: {} stays up unguarded: no drill, no lease and no "
               "max_exposure bound it. Power it off when done: standbyctl power off --standby "
               "{}\n",
               standby->name, standby->name);
    if (!config::PowerStateFromBmc(standby->power.driver)) {
      // WoL and commands cannot be asked at once; the drill waits for the agent.
      Print(args, "on requested", fmt::format("the {} driver sent the request", d.name()));
      return kExitOk;
    }
    const auto deadline = std::chrono::steady_clock::now() + kOnConfirmTimeout;
    for (;;) {
      base::Result<power::PowerReading> r = d.Status();
      if (r.ok() && r->state == power::PowerState::kOn) {
        Print(args, "on", r->how);
        return kExitOk;
      }
      // A refused login is not tried again: retries lock BMC accounts.
      if (!r.ok() && r.status().code() == base::Code::kPermissionDenied) {
        return ReportFailure(r.status());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return ReportFailure(base::Status::Timeout(
            fmt::format("power on was accepted but the BMC did not report on within {}s",
                        kOnConfirmTimeout.count())));
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  if (args.action == "soft-off") {
    base::Status s = d.SoftOff();
    if (!s.ok()) return ReportFailure(s);
    Print(args, "soft off requested", "run `standbyctl power status` to see it go off");
    return kExitOk;
  }
  base::Result<power::OffReport> off =
      power::PowerOffConfirmed(d, agent, power::OffOptionsFor(*standby));
  if (!off.ok()) return ReportFailure(off.status());
  Print(args, "off", off->confirmed.how, off->steps);
  return kExitOk;
}

}  // namespace

void AddPowerCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* power = app.add_subcommand(
      "power",
      "Drive a standby's power: status, on, off (graceful through the agent, then hard, "
      "confirmed) or soft-off");
  auto args = std::make_shared<PowerArgs>();
  power->add_option("ACTION", args->action, "status, on, off or soft-off")
      ->required()
      ->check(CLI::IsMember({"status", "on", "off", "soft-off"}));
  power->add_option("--standby", args->standby, "The standby's name in the config")->required();
  power->add_flag("--json", args->json, "Print JSON");
  power->add_flag("--force", args->force,
                  "on, off, soft-off: go on even when a drill or a hold has the standby");
  power->callback(
      [action, args, &global] { *action = [args, &global] { return RunPower(global, *args); }; });
}

}  // namespace sb::cli
