#include "standby/power/confirmed_off.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"

namespace sb::power {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstPoll{250};

// The driver refused our credentials (a wrong BMC password): asking again
// only fails again and, on many BMCs, locks the account. Nothing more goes
// through the driver in this power off.
bool LoginRefused(const base::Status& s) { return s.code() == base::Code::kPermissionDenied; }

struct Recorder {
  OffReport* report;
  void operator()(std::string step) {
    spdlog::info("power off: {}", step);
    report->steps.push_back(std::move(step));
  }
};

// Polls until the driver reports off or `limit` passes. Returns the reading
// that showed off, or the last thing seen as an error.
base::Result<PowerReading> WaitForOff(PowerDriver& driver, std::chrono::milliseconds limit,
                                      const OffOptions& options, Recorder& record) {
  auto now = [&] { return options.now ? options.now() : Clock::now().time_since_epoch(); };
  const std::chrono::nanoseconds deadline = now() + limit;
  std::string last = "no reading";
  // Soon after the request, then every poll_interval: a host that goes off
  // at once is confirmed off (and its exposure measured) within a fraction
  // of a second. The driver keeps its own minimum interval between requests.
  std::chrono::milliseconds wait = std::min(options.poll_interval, kFirstPoll);
  for (;;) {
    base::Result<PowerReading> r = driver.Status();
    if (r.ok() && r->state == PowerState::kOff) return r;
    if (!r.ok() && LoginRefused(r.status())) {
      record(
          fmt::format("reading the power state failed: {}; not asked again", r.status().message()));
      return r.status();
    }
    last = r.ok() ? fmt::format("still on ({})", r->how) : r.status().message();
    if (now() + wait > deadline) break;
    if (options.sleep) {
      options.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    wait = std::min(options.poll_interval, wait * 2);
  }
  record(fmt::format("not off after {}: {}", base::FormatDuration(limit), last));
  return base::Status::Timeout(last);
}

}  // namespace

OffOptions OffOptionsFor(const config::StandbyConfig& standby) {
  OffOptions options;
  options.graceful_timeout = standby.shutdown_timeout;
  return options;
}

base::Result<OffReport> PowerOffConfirmed(PowerDriver& driver, HostAgent& agent,
                                          const OffOptions& options) {
  OffReport report;
  Recorder record{&report};
  base::Result<PowerReading> now = driver.Status();
  if (now.ok() && now->state == PowerState::kOff) {
    record(fmt::format("already off ({})", now->how));
    report.confirmed = *now;
    return report;
  }
  report.was_on = true;
  record(now.ok() ? fmt::format("on ({})", now->how)
                  : fmt::format("state unknown: {}", now.status().message()));

  base::Status asked = agent.Shutdown();
  const std::string agent_said =
      asked.ok() ? "the agent accepted the shutdown request"
                 : fmt::format("graceful shutdown through the agent failed: {}", asked.message());
  record(agent_said);
  // Without the driver's login nothing can confirm the off or force it:
  // say so, having asked the agent, rather than log in again and again.
  auto refused = [&](const base::Status& login) {
    return base::Status(
        login.code(),
        fmt::format("the standby may still be on: {} refused the login ({}), so the off cannot "
                    "be confirmed and there is no hard power off; {}; check it by hand",
                    driver.name(), login.message(), agent_said));
  };
  if (!now.ok() && LoginRefused(now.status())) return refused(now.status());
  if (asked.ok()) {
    base::Result<PowerReading> off = WaitForOff(driver, options.graceful_timeout, options, record);
    if (off.ok()) {
      record(fmt::format("off ({})", off->how));
      report.graceful = true;
      report.confirmed = *off;
      return report;
    }
    if (LoginRefused(off.status())) return refused(off.status());
  }

  base::Status hard = driver.Off();
  if (!hard.ok()) {
    record(fmt::format("hard power off failed: {}", hard.message()));
    return base::Status(hard.code(),
                        fmt::format("the standby may still be on: graceful shutdown did not "
                                    "confirm off and the hard power off failed: {}",
                                    hard.message()));
  }
  record(fmt::format("hard power off sent through {}", driver.name()));
  report.hard = true;
  base::Result<PowerReading> off = WaitForOff(driver, options.hard_timeout, options, record);
  if (!off.ok()) {
    if (LoginRefused(off.status())) return refused(off.status());
    return base::Status::Timeout(fmt::format(
        "the standby may still be on: it never reported off after a hard power off ({}); "
        "check it by hand",
        off.status().message()));
  }
  record(fmt::format("off ({})", off->how));
  report.confirmed = *off;
  return report;
}

}  // namespace sb::power
