// Powering a standby off and making sure it is off: the exposure window ends
// only when the off is confirmed.
//
//   1. already off?  done.
//   2. graceful: the agent runs its shutdown command; poll until off, up to
//      the standby's shutdown_timeout (after 250 ms, then twice as long each
//      time, up to poll_interval).
//   3. hard: the power driver's hard off; poll until off, up to hard_timeout.
//   4. still not off: fail loudly, naming what was last seen.
//
// When the driver refuses the login (kPermissionDenied: a wrong BMC
// password), it is not asked again in this power off, since retries lock
// accounts: the agent is still asked to shut down, and the power off fails
// saying the off cannot be confirmed.
//
// Every step is logged and recorded in the report. Blocks the calling thread.

#ifndef STANDBY_POWER_CONFIRMED_OFF_H_
#define STANDBY_POWER_CONFIRMED_OFF_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "standby/power/power_driver.h"

namespace sb::power {

struct OffOptions {
  std::chrono::milliseconds graceful_timeout{300'000};
  std::chrono::milliseconds hard_timeout{60'000};
  // The longest wait between two readings (the first ones come sooner).
  std::chrono::milliseconds poll_interval{2'000};
  // The clock the waits are measured and spent on: the steady clock unless
  // set (a drill passes its clock port).
  std::function<std::chrono::nanoseconds()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct OffReport {
  PowerReading confirmed;  // the reading that showed off
  bool was_on = false;
  bool graceful = false;           // the agent's shutdown did it
  bool hard = false;               // the hard power off was needed
  std::vector<std::string> steps;  // what was done and seen, in order
};

// The options a standby's config gives: its shutdown_timeout for the graceful
// step, the defaults for the rest.
OffOptions OffOptionsFor(const config::StandbyConfig& standby);

// On failure the message says the standby may still be on and what was seen.
base::Result<OffReport> PowerOffConfirmed(PowerDriver& driver, HostAgent& agent,
                                          const OffOptions& options);

}  // namespace sb::power

#endif  // STANDBY_POWER_CONFIRMED_OFF_H_
