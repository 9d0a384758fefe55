// The agent's channel against the attacks and bad input it must refuse. In
// every case the refusal is logged with its reason, and a legitimate
// controller connected at the same time goes on being served.

#include "agent/server/agent_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "agent/client/remote_scan.h"
#include "agent/sync/manifest_codec.h"
#include "agent/sync/tree_scan.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/log_capture.h"

namespace sb::agent {
namespace {

using sb::testing::LogCapture;
using sb::testing::TestAgent;
using sb::testing::TestPki;
using std::chrono::milliseconds;

// The real `openssl s_client` as an independent TLS client. Returns its
// combined output. With `until_closed` it reads until the agent closes, so
// that it sees the alert a TLS 1.3 server sends after the client finished.
std::string SClient(const TestAgent& agent, const std::vector<std::string>& extra,
                    bool until_closed = true) {
  base::ProcessSpec spec;
  spec.argv = {"openssl",     "s_client",
               "-connect",    "127.0.0.1:" + std::to_string(agent.port()),
               "-servername", "web1-standby"};
  if (until_closed) spec.argv.push_back("-ign_eof");
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.timeout = std::chrono::seconds(20);
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  REQUIRE(r.ok());
  return r->out + r->err;
}

std::vector<std::string> CertArgs(const TestPki& pki, const net::TlsFiles& who) {
  return {"-CAfile", pki.controller.ca, "-cert", who.cert, "-key", who.key};
}

// The legitimate controller still gets answers.
void CheckStillServing(client::AgentClient& controller) {
  base::Result<nlohmann::json> pong = controller.Call(proto::type::kPing);
  INFO(pong.status().message());
  CHECK(pong.ok());
}

TEST_CASE("agent: a controller with the right certificate is served", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  CHECK(controller->hello().role == "standby");
  CHECK(controller->hello().protocol == proto::kProtocolVersion);
  // When the agent's certificate expires, from the handshake: the test PKI
  // issues them for 730 days, as pki issue does.
  REQUIRE(controller->hello().cert_not_after_ms.has_value());
  const int64_t days_left =
      (*controller->hello().cert_not_after_ms - ::time(nullptr) * int64_t{1000}) / 86'400'000;
  CHECK(days_left >= 728);
  CHECK(days_left <= 730);
  CHECK(controller->hello().capabilities ==
        std::vector<std::string>{"Hello", "Ping", "HostInfo", "Indicators", "RunCommand",
                                 "StatFile", "Shutdown", "Lease", "Scan", "ScanChildren", "Verify",
                                 "RestoreBegin", "Signature", "StageFile", "Change",
                                 "RestoreCommit", "RestoreAbort"});
  base::Result<nlohmann::json> info = controller->Call(proto::type::kHostInfo);
  REQUIRE(info.ok());
  CHECK_FALSE(info->at("hostname").get<std::string>().empty());
  CHECK(info->at("uptime_s").get<double>() > 0);
  base::Result<nlohmann::json> out =
      controller->Call(proto::type::kRunCommand, {{"name", "hello"}});
  REQUIRE(out.ok());
  CHECK(out->at("stdout") == "hello from the agent\n");
  CHECK(out->at("exit_code") == 0);
  CHECK(logs.WaitFor({"connection from 127.0.0.1:", "CN=controller,OU=standbyctl-controller"}));
}

TEST_CASE("agent: the openssl s_client with the controller certificate gets in", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  std::string out = SClient(agent, CertArgs(pki, pki.controller), false);
  CHECK(out.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(out.find("TLSv1.3") != std::string::npos);
  CHECK(logs.WaitFor({"connection from", "CN=controller"}));
}

struct CertificateAttack {
  const char* what;
  std::function<std::vector<std::string>(const TestPki&)> args;
  const char* logged;  // the reason the agent must log
};

TEST_CASE("agent: connections with a bad client certificate are refused", "[agent]") {
  const CertificateAttack attacks[] = {
      {"no client certificate",
       [](const TestPki& p) {
         return std::vector<std::string>{"-CAfile", p.controller.ca};
       },
       "peer did not return a certificate"},
      {"a certificate from another CA",
       [](const TestPki& p) { return CertArgs(p, p.other_ca_controller); },
       "certificate verify failed (unable to get local issuer certificate)"},
      {"an expired certificate", [](const TestPki& p) { return CertArgs(p, p.expired_controller); },
       "certificate verify failed (certificate has expired)"},
      {"an agent's certificate presented as a controller's",
       [](const TestPki& p) { return CertArgs(p, p.agent_as_client); },
       "certificate verify failed (unsuitable certificate purpose)"},
  };
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  for (const CertificateAttack& attack : attacks) {
    SECTION(attack.what) {
      int refused = agent.server().connections_refused();
      std::string out = SClient(agent, attack.args(pki));
      INFO(out);
      INFO(logs.Dump());
      CHECK(logs.WaitFor({"refused connection from 127.0.0.1:", attack.logged}));
      CHECK(agent.server().connections_refused() == refused + 1);
      CHECK(out.find("alert") != std::string::npos);
      CheckStillServing(*controller);
    }
  }
}

// A certificate from the right CA, fit for client authentication, whose OU
// names the agent role: only the role check itself can refuse it. Made with
// the openssl command line, as an attacker holding the CA key might.
TEST_CASE("agent: a client certificate without the controller role is refused", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  const std::string key = pki.dir.Sub("wrong-role.key");
  const std::string csr = pki.dir.Sub("wrong-role.csr");
  const std::string cert = pki.dir.Sub("wrong-role.crt");
  const std::string ext = pki.dir.Write("ext.cnf", "extendedKeyUsage = clientAuth\n");
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key},
           {"openssl", "req", "-new", "-key", key, "-subj",
            "/O=standbyctl/OU=standbyctl-agent/CN=sneaky", "-out", csr},
           {"openssl", "x509", "-req", "-in", csr, "-CA", pki.Path("ca.crt"), "-CAkey",
            pki.Path("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", cert}}) {
    base::ProcessSpec spec;
    spec.argv = argv;
    base::Result<base::ProcessResult> r = base::RunProcess(spec);
    REQUIRE(r.ok());
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
  }
  std::string out = SClient(agent, {"-CAfile", pki.Path("ca.crt"), "-cert", cert, "-key", key});
  INFO(out);
  CHECK(logs.WaitFor({"refused connection from", "CN=sneaky,OU=standbyctl-agent,O=standbyctl",
                      "has role \"standbyctl-agent\", not \"standbyctl-controller\""}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: a TLS 1.2-only client is refused", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  std::vector<std::string> args = CertArgs(pki, pki.controller);
  args.push_back("-tls1_2");
  std::string out = SClient(agent, args);
  INFO(out);
  CHECK(logs.WaitFor({"refused connection from", "unsupported protocol"}));
  CHECK(out.find("Cipher is (NONE)") != std::string::npos);
  CheckStillServing(*controller);
}

TEST_CASE("agent: plain TCP garbage is refused at the handshake", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(agent.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const char garbage[] = "GET / HTTP/1.0\r\n\r\n";
  REQUIRE(::write(fd, garbage, sizeof garbage - 1) > 0);
  char buf[256];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n;
  do {  // read until the agent closes: an alert, then EOF (or a reset)
    n = ::read(fd, buf, sizeof buf);
  } while (n > 0);
  int err = errno;
  ::close(fd);
  CHECK((n == 0 || err == ECONNRESET));
  CHECK(logs.WaitFor({"refused connection from", "http request"}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: an oversized frame is answered with the reason, then the connection closed",
          "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  auto attacker = agent.Controller();
  // A header announcing a 100 MB message.
  const std::string header("\x06\x00\x00\x00\x01", 5);
  REQUIRE(attacker->channel().WriteRaw(header, net::After(milliseconds(2000))).ok());
  base::Result<proto::Message> reply =
      attacker->channel().ReadMessage(net::After(milliseconds(5000)));
  REQUIRE(reply.ok());
  CHECK(proto::StatusFromError(*reply).message() ==
        "frame of 100663296 bytes is over the limit of 1048576 bytes");
  base::Result<proto::Frame> after = attacker->channel().ReadFrame(net::After(milliseconds(5000)));
  CHECK(after.status().code() == base::Code::kUnavailable);  // closed on us
  CHECK(logs.WaitFor({"closing connection from", "frame of 100663296 bytes is over the limit"}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: a message over the protocol's limit is refused before it is sent", "[agent]") {
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  base::Result<nlohmann::json> r =
      controller->Call(proto::type::kPing, {{"padding", std::string(2 << 20, 'x')}});
  CHECK_THAT(r.status().message(), Catch::Contains("Ping message of 2097") &&
                                       Catch::EndsWith(" bytes is over the protocol's limit of "
                                                       "1048576 bytes"));
  CheckStillServing(*controller);
}

TEST_CASE("agent: a truncated frame followed by silence is closed at the idle timeout", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby, milliseconds(500));
  auto attacker = agent.Controller();
  const std::string partial(
      "\x00\x00\x00\x64\x01"
      "0123456789",
      15);  // 10 of 100 bytes
  auto start = std::chrono::steady_clock::now();
  REQUIRE(attacker->channel().WriteRaw(partial, net::After(milliseconds(2000))).ok());
  base::Result<proto::Frame> reply = attacker->channel().ReadFrame(net::After(milliseconds(5000)));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(reply.status().code() == base::Code::kUnavailable);
  CHECK(waited >= milliseconds(400));
  CHECK(waited < milliseconds(4000));
  CHECK(logs.WaitFor({"closing connection from", "nothing complete received for 500ms"}));
  auto controller = agent.Controller();
  CheckStillServing(*controller);
}

TEST_CASE("agent: an unknown message type is refused and the connection closed", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  auto attacker = agent.Controller();
  base::Result<nlohmann::json> r = attacker->Call("Frobnicate");
  CHECK(r.status().message() == "unknown message type \"Frobnicate\"");
  CHECK(attacker->Call(proto::type::kPing).status().code() == base::Code::kUnavailable);
  CHECK(logs.WaitFor({"refused Frobnicate", "unknown message type"}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: a message that is not valid CBOR closes the connection", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  auto attacker = agent.Controller();
  std::string frame;
  proto::AppendFrame(proto::FrameKind::kMessage, "\xff\xfe not cbor", &frame);
  REQUIRE(attacker->channel().WriteRaw(frame, net::After(milliseconds(2000))).ok());
  base::Result<proto::Message> reply =
      attacker->channel().ReadMessage(net::After(milliseconds(5000)));
  REQUIRE(reply.ok());
  CHECK(reply->type == "Error");
  CHECK(logs.WaitFor({"closing connection from", "message is not valid CBOR"}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: a command that is not on the allow-list is refused", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  base::Result<nlohmann::json> r = controller->Call(proto::type::kRunCommand, {{"name", "rm-rf"}});
  CHECK(r.status().code() == base::Code::kPermissionDenied);
  CHECK(r.status().message() == "command \"rm-rf\" is not on this agent's allow-list");
  CHECK(logs.WaitFor({"refused RunCommand", "rm-rf"}));
  CheckStillServing(*controller);  // a refusal, not a protocol violation: still open
}

TEST_CASE("agent: an allow-listed command past its timeout is killed and reported", "[agent]") {
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  base::Result<nlohmann::json> r = controller->Call(proto::type::kRunCommand, {{"name", "sleep"}});
  REQUIRE(r.ok());
  CHECK(r->at("timed_out") == true);
  CHECK(r->at("duration_ms").get<int>() < 5000);
}

TEST_CASE("agent: the primary role refuses shutdown and logs it", "[agent]") {
  LogCapture logs;
  TestPki pki;
  TestAgent primary(pki, Role::kPrimary);
  auto controller = primary.Controller();
  CHECK(controller->hello().role == "primary");
  base::Result<nlohmann::json> r = controller->Call(proto::type::kShutdown);
  CHECK(r.status().code() == base::Code::kPermissionDenied);
  CHECK(r.status().message() ==
        "Shutdown refused: this agent has the primary role, which never writes or shuts down");
  CHECK(logs.WaitFor({"refused Shutdown", "primary role"}));
  CheckStillServing(*controller);
}

TEST_CASE("agent: the standby role runs its shutdown command", "[agent]") {
  TestPki pki;
  TestAgent standby(pki, Role::kStandby);
  auto controller = standby.Controller();
  base::Result<nlohmann::json> r = controller->Call(proto::type::kShutdown);
  REQUIRE(r.ok());
  CHECK(::access(standby.shutdown_marker().c_str(), F_OK) == 0);
}

TEST_CASE("agent: a lease that is not renewed shuts the host down", "[agent][lease]") {
  LogCapture logs;
  TestPki pki;
  TestAgent standby(pki, Role::kStandby);
  auto controller = standby.Controller();
  base::Result<nlohmann::json> r =
      controller->Call(proto::type::kLease, {{"holder", "drill 7"}, {"ttl_ms", 1000}});
  REQUIRE(r.ok());
  // Renewed twice while the test waits: no shutdown yet.
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    REQUIRE(controller->Call(proto::type::kLease, {{"holder", "drill 7"}, {"ttl_ms", 1000}}).ok());
  }
  CHECK(::access(standby.shutdown_marker().c_str(), F_OK) != 0);
  // Another holder is refused while the lease is live.
  r = controller->Call(proto::type::kLease, {{"holder", "drill 8"}, {"ttl_ms", 1000}});
  CHECK(r.status().code() == base::Code::kFailedPrecondition);
  CHECK(r.status().message().find("the lease is held by \"drill 7\"") != std::string::npos);
  // Renewals stop: within the ttl (plus slack) the shutdown command runs.
  CHECK(
      logs.WaitFor({"the lease held by \"drill 7\" ran out", "running"}, std::chrono::seconds(5)));
  for (int i = 0; i < 50 && ::access(standby.shutdown_marker().c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(::access(standby.shutdown_marker().c_str(), F_OK) == 0);
}

TEST_CASE("agent: a released lease never fires, and bad leases are refused", "[agent][lease]") {
  TestPki pki;
  TestAgent standby(pki, Role::kStandby);
  auto controller = standby.Controller();
  REQUIRE(controller->Call(proto::type::kLease, {{"holder", "drill 1"}, {"ttl_ms", 1000}}).ok());
  base::Result<nlohmann::json> r =
      controller->Call(proto::type::kLease, {{"holder", "drill 2"}, {"release", true}});
  CHECK(r.status().message() == "\"drill 2\" holds no lease here (\"drill 1\" does)");
  REQUIRE(controller->Call(proto::type::kLease, {{"holder", "drill 1"}, {"release", true}}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(::access(standby.shutdown_marker().c_str(), F_OK) != 0);
  r = controller->Call(proto::type::kLease, {{"holder", "drill 1"}, {"ttl_ms", 10}});
  CHECK(r.status().message() == "Lease: ttl_ms 10 is outside 1000..86400000");
  r = controller->Call(proto::type::kLease, {{"holder", ""}, {"ttl_ms", 5000}});
  CHECK(r.status().message() == "Lease: the holder must be 1 to 256 bytes, not 0");
  r = controller->Call(proto::type::kLease,
                       {{"holder", std::string(100'000, 'h')}, {"ttl_ms", 5000}});
  CHECK(r.status().message() == "Lease: the holder must be 1 to 256 bytes, not 100000");
  r = controller->Call(proto::type::kLease, {{"holder", "x"}});
  CHECK(r.status().message() == "Lease: missing field \"ttl_ms\"");
  r = controller->Call(proto::type::kLease, {{"holder", "x"}, {"ttl_ms", "soon"}});
  CHECK(r.status().message() == "Lease: field \"ttl_ms\" has the wrong type");
}

TEST_CASE("agent: the primary role refuses a lease", "[agent][lease]") {
  TestPki pki;
  TestAgent primary(pki, Role::kPrimary);
  auto controller = primary.Controller();
  base::Result<nlohmann::json> r =
      controller->Call(proto::type::kLease, {{"holder", "drill 1"}, {"ttl_ms", 1000}});
  CHECK(r.status().code() == base::Code::kPermissionDenied);
}

TEST_CASE("agent: the controller refuses an agent with the wrong name", "[agent]") {
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(pki.controller);
  REQUIRE(tls.ok());
  base::Result<std::unique_ptr<client::AgentClient>> c =
      client::AgentClient::Connect({agent.endpoint(), "db-standby"}, *tls);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("hostname mismatch") != std::string::npos);
}

// 4,500 files in 10 directories, with names of 244 bytes that differ
// early: ~1.3 MB of records, more than one message may hold (1 MiB), so a
// reply that is not cut into parts fails. The bytes of their contents.
constexpr int kLongNames = 4500;
uint64_t WriteLongNames(sb::testing::TempDir& data) {
  uint64_t bytes = 0;
  for (int i = 0; i < kLongNames; ++i) {
    const std::string content = std::to_string(i);
    data.Write(fmt::format("d{}/{:04}{}", i % 10, i, std::string(240, 'n')), content);
    bytes += content.size();
  }
  return bytes;
}

TEST_CASE("agent: a scan of a data root comes back whole, in parts", "[agent]") {
  TestPki pki;
  sb::testing::TempDir data;
  // More entries than one message holds, as records and as CBOR entries.
  WriteLongNames(data);
  TestAgent agent(pki, Role::kStandby, std::chrono::seconds(30), {data.path()});
  auto controller = agent.Controller();
  base::Result<std::vector<sync::ManifestEntry>> local = sync::ScanTree(data.path());
  REQUIRE(local.ok());
  const std::string digest = sync::ManifestDigest(*local);
  base::Result<std::vector<sync::ManifestEntry>> remote =
      client::ScanRemote(*controller, data.path());
  INFO(remote.status().message());
  REQUIRE(remote.ok());
  CHECK(remote->size() == kLongNames + 10);
  CHECK(sync::ManifestDigest(*remote) == digest);
  // A controller that does not ask for records (an older one) gets entries.
  base::Result<uint64_t> id = controller->Send(proto::type::kScan, {{"root", data.path()}});
  REQUIRE(id.ok());
  base::Result<std::vector<sync::ManifestEntry>> old =
      client::FinishScan(*controller, *id, data.path());
  REQUIRE(old.ok());
  CHECK(old->size() == kLongNames + 10);
  CHECK(sync::ManifestDigest(*old) == digest);
  CHECK(controller->in_flight() == 0);
  CheckStillServing(*controller);
}

TEST_CASE("agent: a scan by directory sends digests, then the children asked for", "[agent]") {
  TestPki pki;
  sb::testing::TempDir data;
  const uint64_t bytes = WriteLongNames(data);
  TestAgent agent(pki, Role::kStandby, std::chrono::seconds(30), {data.path()});
  auto controller = agent.Controller();
  REQUIRE(client::ScansByDirectory(*controller));
  base::Result<std::vector<sync::ManifestEntry>> local = sync::ScanTree(data.path());
  REQUIRE(local.ok());

  // Asked before any scan: refused, and the connection serves on.
  base::Result<std::vector<sync::ManifestEntry>> early =
      client::ReadChildren(*controller, data.path(), {0});
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().message().find("no scan of") != std::string::npos);

  base::Result<uint64_t> id = client::StartScan(*controller, data.path(), nullptr, true);
  REQUIRE(id.ok());
  client::ScanInfo info;
  base::Result<std::vector<sync::ManifestEntry>> none =
      client::FinishScan(*controller, *id, data.path(), &info);
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(info.directories);
  CHECK(*info.directories == sync::DirectoryDigests(*local));
  CHECK(info.file_bytes == bytes);
  // A directory it did not list is refused; the kept scan stays.
  base::Result<std::vector<sync::ManifestEntry>> bad =
      client::ReadChildren(*controller, data.path(), {11});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "ScanChildren: index 11 out of range (there are 11)");
  // Malformed requests, straight to the agent: refused, the scan kept.
  CHECK(controller->Call(proto::type::kScanChildren, {{"root", data.path()}, {"dirs", {0}}})
            .status()
            .message() == "ScanChildren needs \"dirs\": indices of the directories");
  CHECK(controller
            ->Call(proto::type::kScanChildren,
                   {{"root", data.path() + "/d1"},
                    {"dirs", nlohmann::json::binary(sync::EncodeIndices({0}))}})
            .status()
            .code() == base::Code::kFailedPrecondition);
  // Every directory's children (in parts): the tree.
  std::vector<size_t> all;
  for (size_t i = 0; i < info.directories->size(); ++i) all.push_back(i);
  base::Result<std::vector<sync::ManifestEntry>> children =
      client::ReadChildren(*controller, data.path(), all);
  INFO(children.status().message());
  REQUIRE(children.ok());
  CHECK(children->size() == kLongNames + 10);
  CHECK(sync::ManifestDigest(*children) == sync::ManifestDigest(*local));
  // Done: the kept scan is let go.
  CHECK_FALSE(client::ReadChildren(*controller, data.path(), {4}).ok());
  // Only what is asked for.
  base::Result<uint64_t> again = client::StartScan(*controller, data.path(), nullptr, true);
  REQUIRE(again.ok());
  REQUIRE(client::FinishScan(*controller, *again, data.path(), &info).ok());
  REQUIRE((*info.directories)[4].path == "d3");
  base::Result<std::vector<sync::ManifestEntry>> one =
      client::ReadChildren(*controller, data.path(), {4});
  REQUIRE(one.ok());
  CHECK(one->size() == kLongNames / 10);
  CHECK(one->front().path.starts_with("d3/"));
  CHECK(controller->in_flight() == 0);
  CheckStillServing(*controller);
}

TEST_CASE("agent: a scan outside the data roots is refused", "[agent]") {
  LogCapture logs;
  TestPki pki;
  sb::testing::TempDir data;
  TestAgent agent(pki, Role::kStandby, std::chrono::seconds(30), {data.path()});
  auto controller = agent.Controller();
  for (const std::string& root : {std::string("/etc"), data.path() + "/../..", data.path() + "x"}) {
    base::Result<std::vector<sync::ManifestEntry>> r = client::ScanRemote(*controller, root);
    INFO(root);
    REQUIRE_FALSE(r.ok());
  }
  CHECK(client::ScanRemote(*controller, "/etc").status().message() ==
        "/etc is not under this agent's data_roots");
  CHECK(logs.WaitFor({"refused Scan", "/etc is not under this agent's data_roots"}));
  CheckStillServing(*controller);
  TestAgent primary(pki, Role::kPrimary);
  auto to_primary = primary.Controller();
  CHECK(client::ScanRemote(*to_primary, data.path()).status().code() ==
        base::Code::kPermissionDenied);
}

TEST_CASE("agent: StatFile reads below the data roots and never follows a symlink", "[agent]") {
  TestPki pki;
  sb::testing::TempDir data;
  data.Write("www/index.html", "<h1>ok</h1>\n");
  data.Write("secret/key", "s3cret\n");
  REQUIRE(::symlink(data.Sub("secret").c_str(), data.Sub("www/up").c_str()) == 0);
  REQUIRE(::symlink("index.html", data.Sub("www/home").c_str()) == 0);
  TestAgent agent(pki, Role::kStandby, std::chrono::seconds(30), {data.Sub("www")});
  auto controller = agent.Controller();
  auto stat = [&](const std::string& path, int content_max) {
    nlohmann::json body = {{"path", path}};
    if (content_max >= 0) body["content_max"] = content_max;
    return controller->Call(proto::type::kStatFile, body);
  };
  base::Result<nlohmann::json> file = stat(data.Sub("www/index.html"), 100);
  REQUIRE(file.ok());
  CHECK((*file)["type"] == "file");
  CHECK((*file)["size"] == 12);
  CHECK((*file)["content"].get_binary().size() == 12);
  CHECK((*file)["sha256"].get<std::string>().size() == 64);
  // Larger than content_max: hashed, not sent.
  base::Result<nlohmann::json> no_content = stat(data.Sub("www/index.html"), 4);
  REQUIRE(no_content.ok());
  CHECK_FALSE(no_content->contains("content"));
  base::Result<nlohmann::json> link = stat(data.Sub("www/home"), -1);
  REQUIRE(link.ok());
  CHECK((*link)["type"] == "symlink");
  CHECK((*link)["target"] == "index.html");
  CHECK_FALSE(link->contains("sha256"));
  // Through a symlink out of the root: refused, nothing read.
  base::Result<nlohmann::json> through = stat(data.Sub("www/up/key"), 100);
  CHECK(through.status().code() == base::Code::kPermissionDenied);
  CHECK(stat(data.Sub("secret/key"), 100).status().message() ==
        data.Sub("secret/key") + " is not under this agent's data_roots");
  base::Result<nlohmann::json> gone = stat(data.Sub("www/gone/x"), -1);
  REQUIRE(gone.ok());
  CHECK((*gone)["exists"] == false);
  CHECK(stat("www/index.html", -1).status().code() == base::Code::kInvalidArgument);
  // content_max is clamped to 0..4096, and must be a number.
  base::Result<nlohmann::json> huge = stat(data.Sub("www/index.html"), 1'000'000);
  REQUIRE(huge.ok());
  CHECK((*huge)["content"].get_binary().size() == 12);
  CHECK_FALSE(controller
                  ->Call(proto::type::kStatFile,
                         {{"path", data.Sub("www/index.html")}, {"content_max", -5}})
                  ->contains("content"));
  CHECK(controller
            ->Call(proto::type::kStatFile,
                   {{"path", data.Sub("www/index.html")}, {"content_max", "all"}})
            .status()
            .code() == base::Code::kInvalidArgument);
  CHECK(controller->Call(proto::type::kStatFile, {{"path", 7}}).status().code() ==
        base::Code::kInvalidArgument);
  CheckStillServing(*controller);
}

TEST_CASE("agent: pipelined requests are answered in order", "[agent]") {
  TestPki pki;
  TestAgent agent(pki, Role::kStandby);
  auto controller = agent.Controller();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    base::Result<uint64_t> id = controller->Send(proto::type::kPing);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  CHECK(controller->in_flight() == 50);
  for (uint64_t id : ids) {
    base::Result<proto::Message> reply = controller->Receive();
    REQUIRE(reply.ok());
    CHECK(reply->id == id);
  }
  CHECK(controller->in_flight() == 0);
}

}  // namespace
}  // namespace sb::agent
