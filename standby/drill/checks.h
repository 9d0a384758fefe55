// Smoke checks: could the restored standby serve? Each kind checks what a
// client would (README, "Smoke checks"):
//
//   http     a request as a browser or an API client makes it (libcurl):
//            status, body and headers, a private CA, a virtual host reached
//            on the standby's address, and the body compared with the
//            primary's;
//   tcp      a connection, optionally over TLS, and a banner;
//   tls      the certificate chain, the names, the expiry, the version;
//   dns      the service's names as their authoritative server gives them,
//            with the TTL that bounds how soon clients follow a failover;
//   command  an allow-listed command on the standby, through its agent;
//   file     a file on the standby, through its agent;
//   canary   the backup's canary read back on the standby.
//
// A check that could not run (no connection, a name that does not resolve,
// an agent that refused) is a failed check, never a pass. Failures that
// trying again cannot fix are marked permanent (CheckRun), so the drill
// fails at once instead of retrying until smoke_timeout.
//
// The http checks use http::HttpClient, as the performance comparison does
// through CurlRequester (the Requester of ports.h).
#ifndef STANDBY_DRILL_CHECKS_H_
#define STANDBY_DRILL_CHECKS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/drill/ports.h"
#include "standby/store/state_store.h"

namespace sb::drill {

using http::HttpClient;
using http::HttpRequest;

// The comparison's Requester (ports.h) over an HttpClient.
class CurlRequester : public Requester {
 public:
  base::Result<HttpResponse> Get(const std::string& url,
                                 std::chrono::milliseconds timeout) override {
    return client_.Get(url, timeout);
  }
  int64_t connections() const override { return client_.connections(); }

 private:
  http::HttpClient client_;
};

// Where `standby`'s checks run: its agent's host, the primary's (when the
// config has one), its restores; the system's clock.
CheckTarget TargetFor(const config::Config& config, const config::StandbyConfig& standby);

// Runs one smoke check against `target`. `agent` is the standby's agent
// (command, file and canary checks; null when there is none). Runs once:
// the warm-up wait and the retries are the drill's.
CheckRun RunSmokeCheck(const config::SmokeCheck& check, const CheckTarget& target,
                       AgentSession* agent);

// `text` with {host} replaced by `host` (bracketed when it is an IPv6
// address).
std::string WithHost(const std::string& text, const std::string& host);

// Whether an HTTP status means the request itself is wrong, so that asking
// again cannot help: 4xx but 408 (timeout) and 429 (too many requests).
bool PermanentHttpStatus(long status);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_CHECKS_H_
