// Smoke checks against real peers on loopback: python3's http.server, and
// how a failure is classed (transient, retried until smoke_timeout, or
// permanent, failed at once).

#include "standby/drill/checks.h"

#include <catch2/catch.hpp>

#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::drill {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::FreePort;
using sb::testing::TempDir;

config::SmokeCheck Http(const std::string& url) {
  config::SmokeCheck c;
  c.name = "homepage";
  c.url = url;
  c.timeout = std::chrono::seconds(2);
  return c;
}

TEST_CASE("checks: a 4xx but 408 and 429 cannot be fixed by trying again", "[checks]") {
  CHECK(PermanentHttpStatus(404));
  CHECK(PermanentHttpStatus(403));
  CHECK(PermanentHttpStatus(400));
  CHECK_FALSE(PermanentHttpStatus(408));
  CHECK_FALSE(PermanentHttpStatus(429));
  CHECK_FALSE(PermanentHttpStatus(503));
  CHECK_FALSE(PermanentHttpStatus(200));
}

TEST_CASE(
    "checks: http against a real server: pass, a missing page at once, nothing listening "
    "retried",
    "[checks]") {
  TempDir dir;
  dir.Write("www/index.html", "<h1>Welcome</h1>\n");
  const int port = FreePort();
  BackgroundProcess server({"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                            "--directory", dir.Sub("www"), std::to_string(port)},
                           dir.Sub("http.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", port));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  CheckRun ok = RunSmokeCheck(Http(base + "/index.html"), nullptr);
  CHECK(ok.result.outcome == store::CheckOutcome::kPassed);
  CHECK_FALSE(ok.permanent);

  CheckRun missing = RunSmokeCheck(Http(base + "/gone.html"), nullptr);
  CHECK(missing.result.outcome == store::CheckOutcome::kFailed);
  CHECK(missing.permanent);
  CHECK(missing.result.detail == "GET " + base +
                                     "/gone.html: status 404, expected 200; trying again "
                                     "cannot fix this");

  CheckRun bad_url = RunSmokeCheck(Http("gopher://127.0.0.1/"), nullptr);
  CHECK(bad_url.result.outcome == store::CheckOutcome::kNotRun);
  CHECK(bad_url.permanent);

  const std::string closed = "http://127.0.0.1:" + std::to_string(FreePort()) + "/";
  CheckRun refused = RunSmokeCheck(Http(closed), nullptr);
  CHECK(refused.result.outcome == store::CheckOutcome::kNotRun);
  CHECK_FALSE(refused.permanent);  // the service may still be starting
}

}  // namespace
}  // namespace sb::drill
