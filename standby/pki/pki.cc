#include "standby/pki/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "agent/base/file.h"

namespace sb::pki {
namespace {

using base::Result;
using base::Status;

struct Deleter {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

Status OpenSslFailure(std::string_view what) {
  return Status::Internal(fmt::format("{}: {}", what, net::TakeOpenSslError("OpenSSL failed")));
}

// Writes `data` to a new file with mode 0600; never replaces an existing one.
Status WritePrivateFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::Invalid(fmt::format("{} already exists; not overwriting it", path));
    }
    return Status::FromErrno(fmt::format("cannot create {}", path), errno);
  }
  ::fchmod(fd, 0600);  // in case the umask was stricter than we are
  ssize_t n = ::write(fd, data.data(), data.size());
  bool ok = n == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::FromErrno(fmt::format("cannot write {}", path), err);
  return Status::Ok();
}

template <typename WriteFn>
Result<std::string> ToPem(WriteFn write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!write(bio.get())) return OpenSslFailure("PEM encoding");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// A certificate with a fresh random serial, validity window and subject.
Result<X509Ptr> NewCertificate(EVP_PKEY* key, const std::string& cn, const std::string& ou,
                               int days, std::chrono::seconds backdate) {
  X509Ptr cert(X509_new());
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpenSslFailure("random serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);  // v3
  long back = static_cast<long>(backdate.count());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -back - 300);  // tolerate clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400 - back);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("standbyctl"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "OU", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(ou.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

Result<KeyPtr> LoadKey(const std::string& path) {
  Result<std::string> pem = base::ReadFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Invalid(fmt::format("{}: not a PEM private key", path));
  return key;
}

Result<X509Ptr> LoadCert(const std::string& path) {
  Result<std::string> pem = base::ReadFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::Invalid(fmt::format("{}: not a PEM certificate", path));
  return cert;
}

Status WriteKeyAndCert(const IssuedFiles& files, EVP_PKEY* key, X509* cert) {
  Result<std::string> key_pem = ToPem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  if (!key_pem.ok()) return key_pem.status();
  Result<std::string> cert_pem = ToPem([&](BIO* b) { return PEM_write_bio_X509(b, cert) == 1; });
  if (!cert_pem.ok()) return cert_pem.status();
  SB_RETURN_IF_ERROR(WritePrivateFile(files.key, *key_pem));
  Status s = WritePrivateFile(files.cert, *cert_pem);
  if (!s.ok()) ::unlink(files.key.c_str());  // both or neither
  return s;
}

}  // namespace

Result<IssuedFiles> InitCa(const std::string& dir, int days) {
  SB_RETURN_IF_ERROR(base::MakeDirectories(dir, 0700));
  IssuedFiles files{dir + "/ca.crt", dir + "/ca.key"};
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("generating the CA key");
  Result<X509Ptr> cert =
      NewCertificate(key.get(), "standbyctl CA", "standbyctl-ca", days, std::chrono::seconds(0));
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  if (!AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(c, c, NID_subject_key_identifier, "hash")) {
    return OpenSslFailure("CA extensions");
  }
  if (X509_sign(c, key.get(), EVP_sha256()) == 0) return OpenSslFailure("signing the CA");
  SB_RETURN_IF_ERROR(WriteKeyAndCert(files, key.get(), c));
  return files;
}

namespace {

// Issue's work, into `files` (which must not exist).
Result<IssuedFiles> IssueInto(const std::string& dir, const IssueOptions& options,
                              const IssuedFiles& files);

}  // namespace

Result<IssuedFiles> Issue(const std::string& dir, const IssueOptions& options) {
  return IssueInto(
      dir, options,
      {fmt::format("{}/{}.crt", dir, options.name), fmt::format("{}/{}.key", dir, options.name)});
}

Result<RenewedFiles> Renew(const std::string& dir, const std::string& name, int days) {
  if (!ValidName(name)) {
    return Status::Invalid(fmt::format(
        "\"{}\" is not a valid certificate name (letters, digits, '.', '-', '_', ':')", name));
  }
  const std::string cert_path = fmt::format("{}/{}.crt", dir, name);
  Result<X509Ptr> old = LoadCert(cert_path);
  if (!old.ok()) {
    base::Status s = old.status().WithContext(fmt::format(
        "certificate to renew (standbyctl pki issue --dir {} --name {} makes one)", dir, name));
    return s.code() == base::Code::kNotFound ? Status::Invalid(s.message()) : s;
  }
  // The role it had: the OU the channel checks.
  char ou[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(old->get()), NID_organizationalUnitName, ou,
                            sizeof ou);
  IssueOptions options;
  options.name = name;
  options.days = days;
  if (std::string_view(ou) == net::kAgentRoleOu) {
    options.role = net::PeerRole::kAgent;
  } else if (std::string_view(ou) == net::kControllerRoleOu) {
    options.role = net::PeerRole::kController;
  } else {
    return Status::Invalid(
        fmt::format("{} is not a controller or agent certificate of standbyctl "
                    "(OU \"{}\")",
                    cert_path, ou));
  }
  RenewedFiles out;
  out.files = {cert_path, fmt::format("{}/{}.key", dir, name)};
  out.old = {out.files.cert + ".old", out.files.key + ".old"};
  const IssuedFiles fresh{out.files.cert + ".new", out.files.key + ".new"};
  // Left by a renewal that stopped half-way: made again.
  for (const std::string& p : {fresh.cert, fresh.key}) ::unlink(p.c_str());
  Result<IssuedFiles> made = IssueInto(dir, options, fresh);
  if (!made.ok()) return made.status();
  // The old pair is kept beside the new one, until the host has the new one.
  for (auto [from, to] :
       {std::pair{out.files.cert, out.old.cert}, std::pair{out.files.key, out.old.key},
        std::pair{fresh.cert, out.files.cert}, std::pair{fresh.key, out.files.key}}) {
    if (::rename(from.c_str(), to.c_str()) != 0 && !(errno == ENOENT && from == out.files.key)) {
      return Status::FromErrno(fmt::format("cannot rename {} to {}", from, to), errno);
    }
  }
  out.role = options.role;
  return out;
}

namespace {

Result<IssuedFiles> IssueInto(const std::string& dir, const IssueOptions& options,
                              const IssuedFiles& files) {
  if (!ValidName(options.name)) {
    return Status::Invalid(
        fmt::format("\"{}\" is not a valid certificate name (letters, digits, '.', '-', '_', ':')",
                    options.name));
  }
  if (options.days < 1 || options.days > 3650) {
    return Status::Invalid(fmt::format("--days {} is out of range 1 to 3650", options.days));
  }
  Result<KeyPtr> ca_key = LoadKey(dir + "/ca.key");
  if (!ca_key.ok()) {
    base::Status s = ca_key.status().WithContext(
        fmt::format("CA key (run standbyctl pki init --dir {} first)", dir));
    // A CA that is not there is the caller's to fix.
    return s.code() == base::Code::kNotFound ? Status::Invalid(s.message()) : s;
  }
  Result<X509Ptr> ca_cert = LoadCert(dir + "/ca.crt");
  if (!ca_cert.ok()) return ca_cert.status().WithContext("CA certificate");

  const bool agent = options.role == net::PeerRole::kAgent;
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("generating a key");
  Result<X509Ptr> cert =
      NewCertificate(key.get(), options.name, agent ? net::kAgentRoleOu : net::kControllerRoleOu,
                     options.days, options.backdate);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(ca_cert->get()));
  std::string san = fmt::format("{}:{}", IsIpAddress(options.name) ? "IP" : "DNS", options.name);
  if (!AddExtension(c, ca_cert->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(c, ca_cert->get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(c, ca_cert->get(), NID_ext_key_usage, agent ? "serverAuth" : "clientAuth") ||
      !AddExtension(c, ca_cert->get(), NID_subject_alt_name, san) ||
      !AddExtension(c, ca_cert->get(), NID_authority_key_identifier, "keyid")) {
    return OpenSslFailure("certificate extensions");
  }
  if (X509_sign(c, ca_key->get(), EVP_sha256()) == 0) {
    return OpenSslFailure("signing the certificate");
  }
  SB_RETURN_IF_ERROR(WriteKeyAndCert(files, key.get(), c));
  return files;
}

}  // namespace

}  // namespace sb::pki
