// Inside checks.cc: one function per check kind, and what they share.
#ifndef STANDBY_DRILL_CHECK_KINDS_H_
#define STANDBY_DRILL_CHECK_KINDS_H_

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/drill/ports.h"

namespace sb::drill::internal {

// Builds one check's CheckRun: its outcome, detail, duration and what it
// measured.
class CheckRecorder {
 public:
  explicit CheckRecorder(const config::SmokeCheck& check);

  CheckRun Pass(std::string detail);
  CheckRun Fail(std::string detail, bool permanent = false);
  // The check could not run: failed, never skipped. Permanent when `why`
  // is one that trying again cannot fix (PermanentError).
  CheckRun NotRun(const base::Status& why);

  nlohmann::json& measured() { return measured_; }
  void set_max_ttl(std::chrono::milliseconds ttl) { max_ttl_ = ttl; }
  void set_primary_footprint(int64_t connections, int64_t requests) {
    primary_connections_ = connections;
    primary_requests_ = requests;
  }

 private:
  CheckRun Finish(store::CheckOutcome outcome, std::string detail, bool permanent);

  CheckRun run_;
  nlohmann::json measured_ = nlohmann::json::object();
  std::optional<std::chrono::milliseconds> max_ttl_;
  int64_t primary_connections_ = 0, primary_requests_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Errors that asking again cannot fix: a bad request, a refusal, a missing
// thing the check names.
bool PermanentError(const base::Status& s);

int64_t NowWallMs(const CheckTarget& target);

CheckRun RunHttpCheck(const config::SmokeCheck& check, const CheckTarget& target);
CheckRun RunTcpCheck(const config::SmokeCheck& check, const CheckTarget& target);
CheckRun RunTlsCheck(const config::SmokeCheck& check, const CheckTarget& target);
CheckRun RunDnsCheck(const config::SmokeCheck& check, const CheckTarget& target);
CheckRun RunCommandCheck(const config::SmokeCheck& check, AgentSession* agent);
CheckRun RunFileCheck(const config::SmokeCheck& check, const CheckTarget& target,
                      AgentSession* agent);
CheckRun RunCanaryCheck(const config::SmokeCheck& check, const CheckTarget& target,
                        AgentSession* agent);

}  // namespace sb::drill::internal

#endif  // STANDBY_DRILL_CHECK_KINDS_H_
