#include "agent/sync/manifest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>

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

namespace {

bool ByPath(const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; }

void AppendLine(const ManifestEntry& e, fmt::memory_buffer* out) {
  // The path goes last and is length-prefixed, so no name can forge a line.
  const std::string& what = e.type == NodeType::kSymlink ? e.link_target : e.sha256;
  fmt::format_to(std::back_inserter(*out), "{} {:04o} {} {} {}:{} {}:{}\n",
                 static_cast<char>(e.type), e.mode, e.mtime_s,
                 e.type == NodeType::kFile ? e.size : 0, what.size(), what, e.path.size(), e.path);
}

}  // namespace

std::string ManifestLine(const ManifestEntry& e) {
  fmt::memory_buffer line;
  AppendLine(e, &line);
  return fmt::to_string(line);
}

std::string ManifestDigest(std::vector<ManifestEntry>& entries) {
  // A scan's entries come sorted already; checking is linear.
  if (!std::is_sorted(entries.begin(), entries.end(), ByPath)) {
    std::sort(entries.begin(), entries.end(), ByPath);
  }
  Sha256 sha;
  fmt::memory_buffer line;  // one buffer for every line: no allocation each
  for (const ManifestEntry& e : entries) {
    line.clear();
    AppendLine(e, &line);
    sha.Update(line.data(), line.size());
  }
  return sha.HexDigest();
}

}  // namespace sb::sync
