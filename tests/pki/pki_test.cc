#include "standby/pki/pki.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "agent/base/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sb::pki {
namespace {

using sb::testing::TempDir;

unsigned Mode(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// What the real openssl command line says about a certificate.
std::string OpensslText(const std::vector<std::string>& args) {
  base::ProcessSpec spec;
  spec.argv = {"openssl"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  REQUIRE(r.ok());
  return r->out + r->err;
}

TEST_CASE("pki: the CA and certificates verify with openssl and are private", "[pki]") {
  TempDir dir;
  std::string ca_dir = dir.Sub("pki");
  base::Result<IssuedFiles> ca = InitCa(ca_dir);
  REQUIRE(ca.ok());
  CHECK(Mode(ca_dir) == 0700);
  CHECK(Mode(ca->key) == 0600);
  CHECK(Mode(ca->cert) == 0600);

  IssueOptions agent;
  agent.role = net::PeerRole::kAgent;
  agent.name = "web1-standby";
  base::Result<IssuedFiles> a = Issue(ca_dir, agent);
  REQUIRE(a.ok());
  CHECK(Mode(a->key) == 0600);
  CHECK(
      OpensslText({"verify", "-CAfile", ca->cert, "-purpose", "sslserver", a->cert}).find(": OK") !=
      std::string::npos);
  std::string text = OpensslText({"x509", "-in", a->cert, "-noout", "-text"});
  CHECK(text.find("DNS:web1-standby") != std::string::npos);
  CHECK(text.find("OU = standbyctl-agent") != std::string::npos);
  CHECK(text.find("TLS Web Server Authentication") != std::string::npos);
  CHECK(text.find("prime256v1") != std::string::npos);

  IssueOptions controller;
  controller.role = net::PeerRole::kController;
  controller.name = "127.0.0.1";
  base::Result<IssuedFiles> c = Issue(ca_dir, controller);
  REQUIRE(c.ok());
  CHECK(
      OpensslText({"verify", "-CAfile", ca->cert, "-purpose", "sslclient", c->cert}).find(": OK") !=
      std::string::npos);
  CHECK(OpensslText({"x509", "-in", c->cert, "-noout", "-text"}).find("IP Address:127.0.0.1") !=
        std::string::npos);
}

TEST_CASE("pki: renew replaces a certificate with one of the same name and role, keeping the old",
          "[pki]") {
  TempDir dir;
  std::string ca_dir = dir.Sub("pki");
  REQUIRE(InitCa(ca_dir).ok());
  IssueOptions o;
  o.name = "web1-standby";
  o.days = 10;
  REQUIRE(Issue(ca_dir, o).ok());
  base::Result<int64_t> before = net::CertificateFileNotAfterMs(ca_dir + "/web1-standby.crt");
  REQUIRE(before.ok());
  const std::string old_cert = *base::ReadFile(ca_dir + "/web1-standby.crt");

  base::Result<RenewedFiles> renewed = Renew(ca_dir, "web1-standby", 730);
  REQUIRE(renewed.ok());
  CHECK(renewed->role == net::PeerRole::kAgent);
  CHECK(renewed->files.cert == ca_dir + "/web1-standby.crt");
  CHECK(*base::ReadFile(ca_dir + "/web1-standby.crt.old") == old_cert);
  CHECK(Mode(ca_dir + "/web1-standby.key") == 0600);
  CHECK(Mode(ca_dir + "/web1-standby.key.old") == 0600);
  base::Result<int64_t> after = net::CertificateFileNotAfterMs(ca_dir + "/web1-standby.crt");
  REQUIRE(after.ok());
  CHECK(*after - *before >= 719LL * 86'400'000);
  // The renewed pair works on the channel: an agent serves with it, a
  // controller's client accepts it under the same name.
  base::Result<IssuedFiles> controller = Issue(ca_dir, {net::PeerRole::kController, "controller"});
  REQUIRE(controller.ok());
  CHECK(net::TlsContext::ForServer(
            {ca_dir + "/ca.crt", ca_dir + "/web1-standby.crt", ca_dir + "/web1-standby.key"})
            .ok());
  // Again: the .old pair is replaced by the one before.
  REQUIRE(Renew(ca_dir, "web1-standby", 730).ok());
  CHECK(Renew(ca_dir, "controller", 30)->role == net::PeerRole::kController);

  base::Result<RenewedFiles> none = Renew(ca_dir, "nobody", 730);
  CHECK(none.status().code() == base::Code::kInvalidArgument);
  CHECK(none.status().message().starts_with("certificate to renew (standbyctl pki issue --dir " +
                                            ca_dir + " --name nobody makes one): "));
  CHECK(Renew(ca_dir, "ca", 730).status().message() ==
        ca_dir +
            "/ca.crt is not a controller or agent certificate of standbyctl (OU "
            "\"standbyctl-ca\")");
}

TEST_CASE("pki: nothing is overwritten and bad names are refused", "[pki]") {
  TempDir dir;
  std::string ca_dir = dir.Sub("pki");
  REQUIRE(InitCa(ca_dir).ok());
  base::Result<IssuedFiles> again = InitCa(ca_dir);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message() == ca_dir + "/ca.key already exists; not overwriting it");

  IssueOptions o;
  o.name = "web1";
  REQUIRE(Issue(ca_dir, o).ok());
  CHECK(Issue(ca_dir, o).status().message() ==
        ca_dir + "/web1.key already exists; not overwriting it");
  o.name = "../etc/evil";
  CHECK(Issue(ca_dir, o).status().message() ==
        "\"../etc/evil\" is not a valid certificate name (letters, digits, '.', '-', '_', ':')");
  o.name = "x";
  base::Status no_ca = Issue(dir.Sub("nope"), o).status();
  CHECK(no_ca.message().starts_with("CA key (run standbyctl pki init --dir " + dir.Sub("nope") +
                                    " first): "));
  // Both are the caller's to fix: usage errors, not internal ones.
  CHECK(no_ca.code() == base::Code::kInvalidArgument);
  CHECK(InitCa(ca_dir).status().code() == base::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sb::pki
