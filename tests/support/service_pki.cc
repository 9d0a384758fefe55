#include "tests/support/service_pki.h"

#include <stdexcept>

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/base/subprocess.h"

namespace sb::testing {
namespace {

void Openssl(std::vector<std::string> args) {
  base::ProcessSpec spec;
  spec.argv = {"openssl"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = std::chrono::seconds(30);
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  if (!r.ok() || r->exit_code != 0) {
    throw std::runtime_error(
        fmt::format("openssl {} failed: {}", args.front(), r.ok() ? r->err : r.status().message()));
  }
}

}  // namespace

ServicePki::ServicePki(const TempDir& dir, const std::string& name)
    : dir_(dir.Sub(name)), ca_(dir_ + "/ca.crt"), ca_key_(dir_ + "/ca.key") {
  dir.Write(name + "/.keep", "");
  Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", ca_key_, "-out", ca_, "-days", "30", "-subj", "/CN=" + name + " test CA",
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
}

ServicePki::Leaf ServicePki::Make(const std::string& file_name, const std::string& cn,
                                  const std::string& extensions, int days) const {
  Leaf leaf{dir_ + "/" + file_name + ".crt", dir_ + "/" + file_name + ".key"};
  const std::string csr = dir_ + "/" + file_name + ".csr";
  const std::string ext = dir_ + "/" + file_name + ".ext";
  base::Status wrote = base::WriteFileAtomically(ext, extensions, 0600);
  if (!wrote.ok()) throw std::runtime_error(wrote.message());
  Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           leaf.key, "-out", csr, "-subj", "/CN=" + cn});
  Openssl({"x509", "-req", "-in", csr, "-CA", ca_, "-CAkey", ca_key_, "-CAcreateserial", "-days",
           std::to_string(days), "-extfile", ext, "-out", leaf.cert});
  return leaf;
}

ServicePki::Leaf ServicePki::Issue(const std::string& file_name,
                                   const std::vector<std::string>& dns_names, int days) const {
  std::string san;
  for (const std::string& n : dns_names) {
    san += (san.empty() ? "" : ",") + (n.starts_with("IP:") ? n : "DNS:" + n);
  }
  return Make(file_name, dns_names.front(),
              fmt::format("subjectAltName={}\nextendedKeyUsage=serverAuth\n", san), days);
}

ServicePki::Leaf ServicePki::IssueClient(const std::string& file_name,
                                         const std::string& name) const {
  return Make(file_name, name, "extendedKeyUsage=clientAuth\n", 30);
}

}  // namespace sb::testing
