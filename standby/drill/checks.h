// Smoke checks: does the restored standby serve? Each check kind runs here
// and gives a CheckResultRecord; a check that could not run (no connection,
// a timeout, an agent that refused the command) is a failed check, never a
// pass. `http` uses libcurl; `command` runs an allow-listed command on the
// standby through its agent and passes on exit 0.
//
// HttpClient is also what the performance comparison times requests with
// (the Requester of ports.h).
#ifndef STANDBY_DRILL_CHECKS_H_
#define STANDBY_DRILL_CHECKS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/drill/ports.h"
#include "standby/store/state_store.h"

typedef void CURL;

namespace sb::drill {

// The real Requester (ports.h), over libcurl.
class HttpClient : public Requester {
 public:
  HttpClient();
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One GET. Errors name the URL and libcurl's reason; kInvalidArgument for
  // a URL libcurl cannot use and kPermissionDenied for a peer certificate it
  // refuses (both permanent), kTimeout or kUnavailable otherwise.
  base::Result<HttpResponse> Get(const std::string& url,
                                 std::chrono::milliseconds timeout) override;
  // Connections opened so far (a kept-alive connection counts once).
  int64_t connections() const override { return connections_; }
  int64_t requests() const { return requests_; }

  static constexpr size_t kMaxBody = 1 << 20;

 private:
  CURL* curl_;
  int64_t connections_ = 0;
  int64_t requests_ = 0;
};

// Runs one smoke check. `agent` is the standby's agent (for command checks).
// Permanent failures: an HTTP status 4xx other than 408 and 429, a URL or a
// certificate libcurl refuses, a command the agent refuses to run (not on
// its allow-list); a failed command, a timeout, a refused connection and
// 5xx are transient.
CheckRun RunSmokeCheck(const config::SmokeCheck& check, AgentSession* agent);

// Whether an HTTP status means the request itself is wrong, so that asking
// again cannot help: 4xx but 408 (timeout) and 429 (too many requests).
bool PermanentHttpStatus(long status);

std::string_view CheckKindName(config::CheckKind kind);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_CHECKS_H_
