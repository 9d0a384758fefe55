#include "agent/sync/manifest.h"

#include <openssl/evp.h>

#include <algorithm>

#include <fmt/format.h>

namespace sb::sync {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string ManifestLine(const ManifestEntry& e) {
  // The path goes last and is length-prefixed, so no name can forge a line.
  const std::string& what = e.type == NodeType::kSymlink ? e.link_target : e.sha256;
  return fmt::format("{} {:04o} {} {} {}:{} {}:{}\n", static_cast<char>(e.type), e.mode, e.mtime_s,
                     e.type == NodeType::kFile ? e.size : 0, what.size(), what, e.path.size(),
                     e.path);
}

std::string ManifestDigest(std::vector<ManifestEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  Sha256 sha;
  for (const ManifestEntry& e : entries) {
    std::string line = ManifestLine(e);
    sha.Update(line.data(), line.size());
  }
  return sha.HexDigest();
}

}  // namespace sb::sync
