// Smoke checks against real peers on loopback: python3's http.server (over
// TLS with certificates from the test's own CA, made by the openssl
// command), a banner server, Debian's nsd as the zone's authoritative
// server, and a real agent for the checks that read the standby. Each kind
// passes on a healthy target and fails with a clear reason on a broken one;
// failures that trying again cannot fix are marked permanent.

#include "standby/drill/checks.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/client/agent_client.h"
#include "standby/restore/restore_run.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/background_process.h"
#include "tests/support/dns_server.h"
#include "tests/support/service_pki.h"
#include "tests/support/temp_dir.h"
#include "tests/support/web_server.h"

namespace sb::drill {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::DnsServer;
using sb::testing::FreePort;
using sb::testing::ServicePki;
using sb::testing::TempDir;
using sb::testing::WebServer;
using store::CheckOutcome;

config::SmokeCheck Http(const std::string& url) {
  config::SmokeCheck c;
  c.name = "homepage";
  c.http.url = url;
  c.timeout = std::chrono::seconds(2);
  return c;
}

CheckTarget Local() {
  CheckTarget t;
  t.host = "127.0.0.1";
  return t;
}

CheckRun Run(const config::SmokeCheck& c, const CheckTarget& t = Local(),
             AgentSession* agent = nullptr) {
  CheckRun r = RunSmokeCheck(c, t, agent);
  INFO(r.result.detail);
  return r;
}

nlohmann::json Measured(const CheckRun& r) { return nlohmann::json::parse(r.result.measured); }

// The standby's agent as the drill's checks use it.
class ClientSession : public AgentSession {
 public:
  explicit ClientSession(std::unique_ptr<client::AgentClient> c) : c_(std::move(c)) {}
  base::Result<nlohmann::json> Call(std::string_view type, nlohmann::json body) override {
    return c_->Call(type, std::move(body));
  }
  base::Result<restore::RestoreReport> Restore(const restore::RestoreSpec& spec) override {
    return restore::RunRestore(*c_, spec);
  }
  void Interrupt() override { c_->Interrupt(); }

 private:
  std::unique_ptr<client::AgentClient> c_;
};

TEST_CASE("checks: a 4xx but 408 and 429 cannot be fixed by trying again", "[checks]") {
  CHECK(PermanentHttpStatus(404));
  CHECK(PermanentHttpStatus(403));
  CHECK(PermanentHttpStatus(400));
  CHECK_FALSE(PermanentHttpStatus(408));
  CHECK_FALSE(PermanentHttpStatus(429));
  CHECK_FALSE(PermanentHttpStatus(503));
  CHECK_FALSE(PermanentHttpStatus(200));
}

TEST_CASE("checks: {host} becomes the address under test, bracketed for IPv6", "[checks]") {
  CHECK(WithHost("http://{host}:8080/x", "10.0.0.5") == "http://10.0.0.5:8080/x");
  CHECK(WithHost("https://{host}/", "::1") == "https://[::1]/");
  CHECK(WithHost("{host}:22", "standby.lan") == "standby.lan:22");
  CHECK(WithHost("http://fixed/", "10.0.0.5") == "http://fixed/");
}

TEST_CASE(
    "checks: http against a real server: pass, a missing page at once, nothing listening "
    "retried",
    "[checks]") {
  TempDir dir;
  dir.Write("www/index.html", "<h1>Welcome</h1>\n");
  const int port = FreePort();
  WebServer server(dir, "127.0.0.1", port, dir.Sub("www"), "standby");
  const std::string base = "http://{host}:" + std::to_string(port);

  CheckRun ok = Run(Http(base + "/index.html"));
  CHECK(ok.result.outcome == CheckOutcome::kPassed);
  CHECK_FALSE(ok.permanent);
  const nlohmann::json m = Measured(ok);
  CHECK(m["status"] == 200);
  CHECK(m["body_bytes"] == 17);
  CHECK(m["timings"]["total_ms"].get<double>() > 0);
  CHECK(m["timings"]["first_byte_ms"].get<double>() <= m["timings"]["total_ms"].get<double>());

  CheckRun missing = Run(Http(base + "/gone.html"));
  CHECK(missing.result.outcome == CheckOutcome::kFailed);
  CHECK(missing.permanent);
  CHECK(missing.result.detail == "GET http://127.0.0.1:" + std::to_string(port) +
                                     "/gone.html: status 404, expected 200-299; trying again "
                                     "cannot fix this");

  CheckRun bad_url = Run(Http("gopher://127.0.0.1/"));
  CHECK(bad_url.result.outcome == CheckOutcome::kNotRun);
  CHECK(bad_url.permanent);

  CheckRun refused = Run(Http("http://{host}:" + std::to_string(FreePort()) + "/"));
  CHECK(refused.result.outcome == CheckOutcome::kNotRun);
  CHECK_FALSE(refused.permanent);  // the service may still be starting
}

TEST_CASE("checks: http status ranges, body and header patterns", "[checks]") {
  TempDir dir;
  dir.Write("www/index.html", "<h1>Welcome</h1>\n<p>build 42</p>\n");
  const int port = FreePort();
  WebServer server(dir, "127.0.0.1", port, dir.Sub("www"), "standby-1");
  config::SmokeCheck c = Http("http://{host}:" + std::to_string(port) + "/index.html");

  c.http.valid_status = {{301, 302}};
  CheckRun wrong = Run(c);
  CHECK(wrong.result.outcome == CheckOutcome::kFailed);
  CHECK(wrong.result.detail.find("status 200, expected 301-302") != std::string::npos);
  CHECK_FALSE(wrong.permanent);  // a 200 may become right; only 4xx are the request's fault

  c.http.valid_status = {{200, 200}};
  c.http.body_regex = R"(build \d+)";
  c.http.header_regex = {{"x-served-by", "^standby-\\d$"}};
  CHECK(Run(c).result.outcome == CheckOutcome::kPassed);

  c.http.body_not_regex = "Welcome";
  CheckRun forbidden = Run(c);
  CHECK(forbidden.result.outcome == CheckOutcome::kFailed);
  CHECK(forbidden.result.detail.find("the body matches /Welcome/") != std::string::npos);

  c.http.body_not_regex.clear();
  c.http.body_regex = "maintenance";
  CHECK(Run(c).result.detail.find("does not match /maintenance/") != std::string::npos);

  c.http.body_regex.clear();
  c.http.header_regex = {{"X-Served-By", "^primary"}};
  CheckRun header = Run(c);
  CHECK(header.result.outcome == CheckOutcome::kFailed);
  CHECK(header.result.detail.find("header X-Served-By: \"standby-1\" does not match /^primary/") !=
        std::string::npos);
  c.http.header_regex = {{"X-Cache", "."}};
  CHECK(Run(c).result.detail.find("no X-Cache header") != std::string::npos);
}

TEST_CASE("checks: same_as_primary catches one flipped byte and ignores what it is told to",
          "[checks]") {
  TempDir dir;
  const std::string page = "<h1>Orders</h1>\n<p>total 1234.50</p>\n<!-- at 17:00:01 -->\n";
  std::string flipped = page;
  flipped[30] ^= 0x01;  // "1234.50" becomes "1234.40": a byte of the backup rotted
  dir.Write("primary/index.html", page);
  dir.Write("standby/index.html", page);
  dir.Write("rotten/index.html", flipped);
  const int port = FreePort();
  WebServer primary(dir, "127.0.0.2", port, dir.Sub("primary"), "primary");
  config::SmokeCheck c = Http("http://{host}:" + std::to_string(port) + "/index.html");
  c.http.same_as_primary = true;
  CheckTarget t = Local();
  t.primary_host = "127.0.0.2";
  {
    WebServer standby(dir, "127.0.0.1", port, dir.Sub("standby"), "standby");
    CheckRun same = Run(c, t);
    INFO(same.result.detail);
    CHECK(same.result.outcome == CheckOutcome::kPassed);
    CHECK(same.result.detail.find("same as the primary's (58 bytes)") != std::string::npos);
    CHECK(Measured(same)["body_sha256"] == Measured(same)["primary_body_sha256"]);
    CHECK(same.primary_connections == 1);  // the drill's footprint on the primary
    CHECK(same.primary_requests == 1);
    CheckTarget capped = t;
    capped.primary_connections_left = 0;
    CheckRun over = Run(c, capped);
    CHECK(over.result.outcome == CheckOutcome::kNotRun);
    CHECK(over.permanent);
    CHECK(over.result.detail.find("cap on connections to the primary (max_sessions) is used up") !=
          std::string::npos);
  }
  WebServer rotten(dir, "127.0.0.1", port, dir.Sub("rotten"), "rotten");
  CheckRun differs = Run(c, t);
  CHECK(differs.result.outcome == CheckOutcome::kFailed);
  CHECK(differs.permanent);  // what was restored differs; waiting does not change it
  CHECK(differs.result.detail.find("differs from the primary's GET http://127.0.0.2:") !=
        std::string::npos);
  CHECK(differs.result.detail.find("first difference at byte 30") != std::string::npos);
  CHECK(Measured(differs)["body_sha256"] != Measured(differs)["primary_body_sha256"]);

  // What differs on purpose (a time, a host name) is removed from both first.
  c.http.ignore_regex = R"(total [0-9.]+)";
  CHECK(Run(c, t).result.outcome == CheckOutcome::kPassed);

  // Without a primary the comparison cannot run: failed, never skipped.
  CheckRun alone = Run(c, Local());
  CHECK(alone.result.outcome == CheckOutcome::kNotRun);
  CHECK(alone.permanent);
  CHECK(alone.result.detail.find("no [primary]") != std::string::npos);
}

TEST_CASE(
    "checks: https on a private CA: a virtual host reached by host_name on 127.x, the wrong "
    "name and an unknown CA fail at once",
    "[checks][tls]") {
  TempDir dir;
  ServicePki ca(dir, "service-ca");
  ServicePki unknown(dir, "unknown-ca");
  const ServicePki::Leaf www = ca.Issue("www", {"www.example.test"}, 90);
  const ServicePki::Leaf stranger = unknown.Issue("www", {"www.example.test"}, 90);
  dir.Write("www/index.html", "<h1>shop</h1>\n");
  const int port = FreePort();
  WebServer server(dir, "127.0.0.3", port, dir.Sub("www"), "vhost", {www.cert, www.key});
  CheckTarget t;
  t.host = "127.0.0.3";

  config::SmokeCheck c = Http("https://{host}:" + std::to_string(port) + "/index.html");
  c.http.host_name = "www.example.test";
  c.http.ca_file = ca.ca();
  CheckRun ok = Run(c, t);
  CHECK(ok.result.outcome == CheckOutcome::kPassed);
  CHECK(ok.result.detail.find("GET https://www.example.test:" + std::to_string(port) +
                              "/index.html on 127.0.0.3: status 200") == 0);
  CHECK(Measured(ok)["timings"]["tls_ms"].get<double>() > 0);

  // The address alone: the certificate is not for it.
  config::SmokeCheck by_address = c;
  by_address.http.host_name.clear();
  CheckRun name = Run(by_address, t);
  CHECK(name.result.outcome == CheckOutcome::kNotRun);
  CHECK(name.permanent);

  // The system's store does not know the private CA.
  config::SmokeCheck system_ca = c;
  system_ca.http.ca_file.clear();
  CheckRun untrusted = Run(system_ca, t);
  CHECK(untrusted.result.outcome == CheckOutcome::kNotRun);
  CHECK(untrusted.permanent);
  CHECK(untrusted.result.detail.find("trying again cannot fix this") != std::string::npos);

  // A server whose certificate comes from another CA.
  const int other_port = FreePort();
  WebServer other(dir, "127.0.0.3", other_port, dir.Sub("www"), "stranger",
                  {stranger.cert, stranger.key});
  config::SmokeCheck other_ca = c;
  other_ca.http.url = "https://{host}:" + std::to_string(other_port) + "/index.html";
  CheckRun from_other = Run(other_ca, t);
  CHECK(from_other.result.outcome == CheckOutcome::kNotRun);
  CHECK(from_other.permanent);
}

TEST_CASE("checks: http with a client certificate, a POST, and redirects followed or not",
          "[checks][tls]") {
  TempDir dir;
  ServicePki ca(dir, "service-ca");
  const ServicePki::Leaf www = ca.Issue("www", {"www.example.test"}, 90);
  const ServicePki::Leaf client = ca.IssueClient("client", "standbyctl");
  dir.Write("www/docs/index.html", "<h1>docs</h1>\n");
  const int port = FreePort();
  WebServer server(dir, "127.0.0.1", port, dir.Sub("www"), "mtls",
                   {www.cert, www.key, "any", ca.ca()});
  config::SmokeCheck c = Http("https://{host}:" + std::to_string(port) + "/docs/");
  c.http.host_name = "www.example.test";
  c.http.ca_file = ca.ca();
  CheckRun without = Run(c);
  CHECK(without.result.outcome == CheckOutcome::kNotRun);  // the server wants a certificate
  c.http.client_cert = client.cert;
  c.http.client_key = client.key;
  CHECK(Run(c).result.outcome == CheckOutcome::kPassed);

  // http.server answers a directory without its slash with a redirect.
  c.http.url = "https://{host}:" + std::to_string(port) + "/docs";
  CheckRun moved = Run(c);
  CHECK(moved.result.outcome == CheckOutcome::kFailed);
  CHECK(moved.result.detail.find("status 301, expected 200-299") != std::string::npos);
  c.http.follow_redirects = true;
  c.http.body_regex = "<h1>docs";
  CheckRun followed = Run(c);
  CHECK(followed.result.outcome == CheckOutcome::kPassed);
  CHECK(followed.result.detail.find("status 200, body as expected") != std::string::npos);

  // A method the server does not serve (http.server answers POST with 501).
  c.http.method = "POST";
  c.http.body = "q=1";
  CheckRun posted = Run(c);
  CHECK(posted.result.outcome == CheckOutcome::kFailed);
  CHECK(posted.result.detail.find("POST https://www.example.test:") == 0);
  CHECK(posted.result.detail.find("status 501") != std::string::npos);
}

TEST_CASE(
    "checks: tls reads the chain, the names and the expiry: two days left fails with the date",
    "[checks][tls]") {
  TempDir dir;
  ServicePki ca(dir, "service-ca");
  ServicePki unknown(dir, "unknown-ca");
  const ServicePki::Leaf good = ca.Issue("good", {"www.example.test", "example.test"}, 90);
  const ServicePki::Leaf expiring = ca.Issue("expiring", {"www.example.test"}, 2);
  const ServicePki::Leaf stranger = unknown.Issue("stranger", {"www.example.test"}, 90);
  dir.Write("www/index.html", "ok\n");
  const int good_port = FreePort();
  const int expiring_port = FreePort();
  const int stranger_port = FreePort();
  const int old_port = FreePort();
  WebServer s1(dir, "127.0.0.1", good_port, dir.Sub("www"), "good", {good.cert, good.key});
  WebServer s2(dir, "127.0.0.1", expiring_port, dir.Sub("www"), "expiring",
               {expiring.cert, expiring.key});
  WebServer s3(dir, "127.0.0.1", stranger_port, dir.Sub("www"), "stranger",
               {stranger.cert, stranger.key});
  WebServer s4(dir, "127.0.0.1", old_port, dir.Sub("www"), "tls12", {good.cert, good.key, "1.2"});

  auto tls = [&](int port) {
    config::SmokeCheck c;
    c.name = "certificate";
    c.kind = config::CheckKind::kTls;
    c.tls.address = "{host}:" + std::to_string(port);
    c.tls.names = {"www.example.test", "example.test"};
    c.tls.ca_file = ca.ca();
    c.timeout = std::chrono::seconds(3);
    return c;
  };
  CheckRun ok = Run(tls(good_port));
  CHECK(ok.result.outcome == CheckOutcome::kPassed);
  CHECK(Measured(ok)["days_left"].get<double>() > 89);
  CHECK(Measured(ok)["not_after_wall_ms"].get<int64_t>() > 0);

  config::SmokeCheck soon = tls(expiring_port);
  soon.tls.names = {"www.example.test"};
  CheckRun expires = Run(soon);
  CHECK(expires.result.outcome == CheckOutcome::kFailed);
  CHECK(expires.permanent);
  CHECK(expires.result.detail.find("its certificate expires 20") != std::string::npos);
  CHECK(expires.result.detail.find("within min_days 14") != std::string::npos);
  CHECK(Measured(expires)["days_left"].get<double>() < 2.01);
  soon.tls.min_days = 1;
  CHECK(Run(soon).result.outcome == CheckOutcome::kPassed);

  config::SmokeCheck other_name = tls(good_port);
  other_name.tls.names = {"shop.example.test"};
  CheckRun mismatch = Run(other_name);
  CHECK(mismatch.result.outcome == CheckOutcome::kFailed);
  CHECK(mismatch.permanent);
  CHECK(mismatch.result.detail.find("not valid for shop.example.test (it is for www.example.test, "
                                    "example.test)") != std::string::npos);

  CheckRun untrusted = Run(tls(stranger_port));
  CHECK(untrusted.result.outcome == CheckOutcome::kFailed);
  CHECK(untrusted.permanent);
  CHECK(untrusted.result.detail.find("not trusted") != std::string::npos);

  config::SmokeCheck modern = tls(old_port);
  CHECK(Run(modern).result.outcome == CheckOutcome::kPassed);
  modern.tls.min_version = "TLSv1.3";
  CheckRun refused = Run(modern);
  CHECK(refused.result.outcome == CheckOutcome::kNotRun);
  CHECK(refused.permanent);
  CHECK(refused.result.detail.find("no common version at or above TLSv1.3") != std::string::npos);

  CheckRun closed = Run(tls(FreePort()));
  CHECK(closed.result.outcome == CheckOutcome::kNotRun);
  CHECK_FALSE(closed.permanent);
}

TEST_CASE("checks: tcp connects, sends, reads a banner, and over TLS verifies the name",
          "[checks]") {
  TempDir dir;
  const int banner_port = FreePort();
  BackgroundProcess banner(
      {"/usr/bin/python3", "-c",
       "import socket,sys\n"
       "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
       "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8)\n"
       "while True:\n"
       "  c,_=s.accept(); c.sendall(b'SSH-2.0-OpenSSH_9.2\\r\\n'); c.close()\n",
       std::to_string(banner_port)},
      dir.Sub("banner.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", banner_port));
  config::SmokeCheck c;
  c.name = "ssh";
  c.kind = config::CheckKind::kTcp;
  c.tcp.address = "{host}:" + std::to_string(banner_port);
  c.tcp.expect_regex = "^SSH-2\\.0-";
  c.timeout = std::chrono::seconds(2);
  CheckRun ok = Run(c);
  CHECK(ok.result.outcome == CheckOutcome::kPassed);
  CHECK(Measured(ok)["banner"] == "SSH-2.0-OpenSSH_9.2\r\n");

  c.tcp.expect_regex = "^220 ";
  CheckRun wrong = Run(c);
  CHECK(wrong.result.outcome == CheckOutcome::kFailed);
  CHECK(wrong.result.detail.find("does not match /^220 /: \"SSH-2.0-OpenSSH_9.2..\"") !=
        std::string::npos);

  c.tcp.address = "{host}:" + std::to_string(FreePort());
  CheckRun closed = Run(c);
  CHECK(closed.result.outcome == CheckOutcome::kNotRun);
  CHECK(closed.result.detail.find("cannot connect to 127.0.0.1:") != std::string::npos);

  ServicePki ca(dir, "service-ca");
  const ServicePki::Leaf www = ca.Issue("www", {"www.example.test"}, 90);
  dir.Write("www/index.html", "ok\n");
  const int https_port = FreePort();
  WebServer server(dir, "127.0.0.1", https_port, dir.Sub("www"), "https", {www.cert, www.key});
  config::SmokeCheck t;
  t.name = "https-port";
  t.kind = config::CheckKind::kTcp;
  t.tcp.address = "{host}:" + std::to_string(https_port);
  t.tcp.tls = true;
  t.tcp.host_name = "www.example.test";
  t.tcp.ca_file = ca.ca();
  t.tcp.send = "HEAD / HTTP/1.0\r\nHost: www.example.test\r\n\r\n";
  t.tcp.expect_regex = "^HTTP/1\\.[01] 200";
  t.timeout = std::chrono::seconds(3);
  CheckRun secured = Run(t);
  CHECK(secured.result.outcome == CheckOutcome::kPassed);
  CHECK(secured.result.detail.find("connected over TLSv1.3, banner as expected") !=
        std::string::npos);
  t.tcp.host_name = "mail.example.test";
  CheckRun name = Run(t);
  CHECK(name.result.outcome == CheckOutcome::kFailed);
  CHECK(name.permanent);
}

TEST_CASE(
    "checks: dns reads the TTL from the zone's authoritative server (nsd): 4h fails, 1m "
    "passes",
    "[checks][dns]") {
  TempDir dir;
  DnsServer nsd(dir, "127.0.0.53", "example.test",
                "$TTL 3600\n"
                "@ IN SOA ns1.example.test. admin.example.test. ( 1 3600 600 86400 60 )\n"
                "@ IN NS ns1.example.test.\n"
                "ns1 IN A 127.0.0.53\n"
                "www 14400 IN A 192.0.2.10\n"
                "api 60 IN A 192.0.2.20\n"
                "shop 60 IN CNAME www.example.test.\n"
                "cdn 120 IN CNAME edge.cdn.invalid.\n");
  config::SmokeCheck c;
  c.name = "names";
  c.kind = config::CheckKind::kDns;
  c.dns.server = nsd.endpoint();
  c.dns.names = {"api.example.test"};
  c.timeout = std::chrono::seconds(2);

  CheckRun api = Run(c);
  CHECK(api.result.outcome == CheckOutcome::kPassed);
  CHECK(api.result.detail == "api.example.test 192.0.2.20 TTL 1m");
  REQUIRE(api.max_ttl.has_value());
  CHECK(*api.max_ttl == std::chrono::seconds(60));

  c.dns.names = {"api.example.test", "www.example.test"};
  CheckRun www = Run(c);
  CHECK(www.result.outcome == CheckOutcome::kFailed);
  CHECK(www.permanent);
  CHECK(www.result.detail.find("www.example.test: TTL 4h, above max_ttl 5m") == 0);
  REQUIRE(www.max_ttl.has_value());
  CHECK(*www.max_ttl == std::chrono::hours(4));
  CHECK(Measured(www)["max_ttl_s"] == 14400);
  CHECK(Measured(www)["names"]["api.example.test"]["ttl_s"] == 60);

  // Where clients would go.
  c.dns.names = {"api.example.test"};
  c.dns.expect = {"192.0.2.99"};
  CheckRun elsewhere = Run(c);
  CHECK(elsewhere.result.outcome == CheckOutcome::kFailed);
  CHECK(elsewhere.result.detail.find("A is 192.0.2.20, not 192.0.2.99") != std::string::npos);
  c.dns.expect = {"192.0.2.20"};
  CHECK(Run(c).result.outcome == CheckOutcome::kPassed);

  c.dns.expect.clear();
  c.dns.type = "CNAME";
  c.dns.names = {"shop.example.test"};
  c.dns.expect = {"www.example.test"};
  CHECK(Run(c).result.outcome == CheckOutcome::kPassed);

  // A name that points out of the zone: its server cannot give the address.
  c.dns.type = "A";
  c.dns.expect.clear();
  c.dns.names = {"cdn.example.test"};
  CheckRun elsewhere_zone = Run(c);
  CHECK(elsewhere_zone.result.outcome == CheckOutcome::kFailed);
  CHECK(elsewhere_zone.result.detail.find(
            "no A record; the name is a CNAME to edge.cdn.invalid. (TTL 2m)") != std::string::npos);

  c.dns.names = {"gone.example.test"};
  CheckRun gone = Run(c);
  CHECK(gone.result.outcome == CheckOutcome::kFailed);
  CHECK(gone.result.detail.find("no such name (NXDOMAIN)") != std::string::npos);

  // No server named: the zone's NS is found through a resolver (here the
  // same nsd, which answers for its zone) and asked on ns_port.
  c.dns.server.clear();
  c.dns.resolver = nsd.endpoint();
  c.dns.ns_port = static_cast<uint16_t>(nsd.port());
  c.dns.names = {"api.example.test"};
  CheckRun found = Run(c);
  CHECK(found.result.outcome == CheckOutcome::kPassed);
  CHECK(found.result.detail == "api.example.test 192.0.2.20 TTL 1m");

  // Nothing answers: could not run, and retried.
  c.dns.resolver.clear();
  c.dns.server = "127.0.0.54:" + std::to_string(FreePort());
  c.timeout = std::chrono::milliseconds(500);
  CheckRun silent = Run(c);
  CHECK(silent.result.outcome == CheckOutcome::kNotRun);
  CHECK_FALSE(silent.permanent);
}

TEST_CASE("checks: command, file and canary read the standby through a real agent",
          "[checks][agent]") {
  sb::testing::TestPki pki;
  TempDir dir;
  const std::string root = dir.Sub("srv");
  dir.Write("srv/www/index.html", "<h1>ok</h1>\n");
  dir.Write("srv/www/.canary", "2026-12-01T16:00:00Z\n");
  dir.Write("backup/www/.canary", "2026-12-01T16:00:00Z\n");
  sb::testing::TestAgent agent(pki, agent::Role::kStandby, std::chrono::seconds(30), {root});
  ClientSession session(agent.Controller());
  CheckTarget t = Local();
  const int64_t now = 1'796'144'400'000;  // 2026-12-01T17:00:00Z
  t.now_wall_ms = [&] { return now; };

  config::SmokeCheck cmd;
  cmd.name = "greeting";
  cmd.kind = config::CheckKind::kCommand;
  cmd.command = "hello";
  cmd.output_regex = "^hello from";
  CHECK(Run(cmd, t, &session).result.detail == "command hello exited 0, output as expected");
  cmd.output_regex = "goodbye";
  CheckRun output = Run(cmd, t, &session);
  CHECK(output.result.outcome == CheckOutcome::kFailed);
  CHECK(output.result.detail ==
        "command hello exited 0 but its output does not match /goodbye/: \"hello from the "
        "agent\"");
  cmd.command = "rm-rf";
  CheckRun refused = Run(cmd, t, &session);
  CHECK(refused.permanent);
  CHECK(refused.result.detail.find("not on this agent's allow-list") != std::string::npos);

  config::SmokeCheck file;
  file.name = "index";
  file.kind = config::CheckKind::kFile;
  file.file.path = root + "/www/index.html";
  file.file.type = "file";
  file.file.min_size = 5;
  file.file.sha256 = "1a87b5d5a9f8e6c7ec33a8b9b47d55e0c1c3ef3d1b1c0a6e2e1d2c8f7f0a2b3c";  // wrong
  CheckRun hash = Run(file, t, &session);
  CHECK(hash.result.outcome == CheckOutcome::kFailed);
  const std::string actual = Measured(hash)["sha256"];
  CHECK(hash.result.detail ==
        root + "/www/index.html: sha256 " + actual + ", expected " + file.file.sha256);
  file.file.sha256 = actual;
  CheckRun good = Run(file, t, &session);
  CHECK(good.result.outcome == CheckOutcome::kPassed);
  CHECK(good.result.detail == root + "/www/index.html: file of 12 B, sha256 as expected");
  file.file.max_age = std::chrono::hours(1);  // written a moment ago
  CheckTarget later = t;
  later.now_wall_ms = [] { return store::Timestamp::Now().wall_ms + 7'200'000; };
  CHECK(Run(file, later, &session)
            .result.detail.find("was modified 2h ago, longer than max_age "
                                "1h") != std::string::npos);
  later.now_wall_ms = [] { return store::Timestamp::Now().wall_ms; };
  CHECK(Run(file, later, &session).result.outcome == CheckOutcome::kPassed);
  file.file.max_age.reset();
  file.file.max_size = 4;
  CHECK(Run(file, t, &session).result.detail.find("more than max_size 4 B") != std::string::npos);
  file.file.max_size.reset();
  file.file.type = "dir";
  CHECK(Run(file, t, &session).result.detail == root + "/www/index.html is a file, expected a dir");

  config::SmokeCheck missing = file;
  missing.file = {};
  missing.file.path = root + "/www/gone.html";
  CheckRun gone = Run(missing, t, &session);
  CHECK(gone.result.outcome == CheckOutcome::kFailed);
  CHECK(gone.result.detail == root + "/www/gone.html does not exist on the standby");
  missing.file.path = "/etc/passwd";
  CheckRun outside = Run(missing, t, &session);
  CHECK(outside.result.outcome == CheckOutcome::kNotRun);
  CHECK(outside.permanent);
  CHECK(outside.result.detail.find("/etc/passwd is not under this agent's data_roots") !=
        std::string::npos);

  config::SmokeCheck canary;
  canary.name = "canary";
  canary.kind = config::CheckKind::kCanary;
  config::RestoreMapping m;
  m.source = dir.Sub("backup/www");
  m.target = root + "/www";
  m.canary = ".canary";
  t.restores = {m};
  CheckRun same = Run(canary, t, &session);
  CHECK(same.result.outcome == CheckOutcome::kPassed);
  CHECK(same.result.detail ==
        "the standby's canary equals the backup's: " + root + "/www/.canary (1h old)");
  CHECK(Measured(same)[0]["age_ms"] == 3'600'000);

  // The standby still holds an older backup.
  dir.Write("backup/www/.canary", "2026-12-01T16:30:00Z\n");
  CheckRun stale = Run(canary, t, &session);
  CHECK(stale.result.outcome == CheckOutcome::kFailed);
  CHECK(stale.permanent);
  CHECK(stale.result.detail.find("on the standby says \"2026-12-01T16:00:00Z\", the backup") !=
        std::string::npos);

  // Dated in the future: the RPO would be unknown.
  dir.Write("backup/www/.canary", "2026-12-01T18:00:00Z\n");
  dir.Write("srv/www/.canary", "2026-12-01T18:00:00Z\n");
  CheckRun future = Run(canary, t, &session);
  CHECK(future.result.outcome == CheckOutcome::kFailed);
  CHECK(future.result.detail.find("is dated 1h in the future") != std::string::npos);

  // Not restored at all.
  REQUIRE(::unlink((root + "/www/.canary").c_str()) == 0);
  CheckRun absent = Run(canary, t, &session);
  CHECK(absent.result.outcome == CheckOutcome::kFailed);
  CHECK(absent.result.detail.find("is not on the standby") != std::string::npos);

  // Without an agent these checks cannot run.
  CHECK(Run(canary, t, nullptr).result.outcome == CheckOutcome::kNotRun);
}

}  // namespace
}  // namespace sb::drill
