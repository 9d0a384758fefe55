#include "standby/config/secret.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/base/file.h"

namespace sb::config {

std::string SecretRef::Describe() const {
  switch (kind) {
    case Kind::kFile:
      return fmt::format("file {}", name);
    case Kind::kEnv:
      return fmt::format("environment variable {}", name);
    case Kind::kNone:
      break;
  }
  return "no secret";
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

Secret::~Secret() { Wipe(); }

void Secret::Wipe() noexcept {
  // volatile so the compiler cannot drop a store to memory about to be freed
  volatile char* p = value_.data();
  for (size_t i = 0; i < value_.capacity(); ++i) p[i] = 0;
  value_.clear();
}

base::Status CheckSecretFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return base::Status::FromErrno(fmt::format("cannot read password file {}", path), errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return base::Status::Invalid(fmt::format("password file {} is not a regular file", path));
  }
  unsigned mode = st.st_mode & 07777;
  if ((mode & 077) != 0) {
    return base::Status::PermissionDenied(fmt::format(
        "password file {} is accessible by group or others (mode {:04o}); run: chmod 600 {}", path,
        mode, path));
  }
  if (st.st_size == 0) {
    return base::Status::Invalid(fmt::format("password file {} is empty", path));
  }
  return base::Status::Ok();
}

base::Result<Secret> LoadSecret(const SecretRef& ref) {
  switch (ref.kind) {
    case SecretRef::Kind::kFile: {
      SB_RETURN_IF_ERROR(CheckSecretFile(ref.name));
      base::Result<std::string> text = base::ReadFile(ref.name, uint64_t{64} * 1024);
      if (!text.ok()) return text.status().WithContext("cannot read password file");
      std::string value = std::move(*text);
      if (!value.empty() && value.back() == '\n') value.pop_back();
      if (!value.empty() && value.back() == '\r') value.pop_back();
      if (value.empty()) {
        return base::Status::Invalid(fmt::format("password file {} is empty", ref.name));
      }
      return Secret(std::move(value));
    }
    case SecretRef::Kind::kEnv: {
      const char* value = std::getenv(ref.name.c_str());
      if (value == nullptr || *value == '\0') {
        // The caller's setup to fix: a usage error, as a missing file is.
        return base::Status::Invalid(
            fmt::format("environment variable {} (named by password_env) is not set", ref.name));
      }
      return Secret(value);
    }
    case SecretRef::Kind::kNone:
      break;
  }
  return base::Status::Invalid("no secret configured");
}

}  // namespace sb::config
