// Secrets such as BMC passwords: where to find them, and the loaded value.
//
// A secret is never written in the config text. It lives in a file only its
// owner may read (mode 0600 or stricter), or in an environment variable. The
// loaded Secret cannot be formatted or logged: it has no operator<< and its
// fmt formatter prints "<redacted>". Values; thread-safe.

#ifndef STANDBY_CONFIG_SECRET_H_
#define STANDBY_CONFIG_SECRET_H_

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "agent/base/status.h"

namespace sb::config {

struct SecretRef {
  enum class Kind { kNone, kFile, kEnv };
  Kind kind = Kind::kNone;
  std::string name;  // the file's path or the variable's name

  // "file /etc/x.pass" or "environment variable BMC_PASSWORD": says where,
  // never what.
  std::string Describe() const;
};

class Secret {
 public:
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  // A moved-from secret is wiped, so a move leaves no copy behind.
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();  // wipes the bytes

  const std::string& reveal() const { return value_; }

 private:
  // Zeroes the whole buffer (a short string's too), then empties it.
  void Wipe() noexcept;

  std::string value_;
};

// Checks that a secret file exists, is a regular file readable only by its
// owner, and is not empty. Errors name the path and, for a loose mode, the
// mode and the fix.
base::Status CheckSecretFile(const std::string& path);

// Reads the secret. A file's single trailing newline is dropped. An unset or
// empty variable and a loose file mode are errors.
base::Result<Secret> LoadSecret(const SecretRef& ref);

}  // namespace sb::config

template <>
struct fmt::formatter<sb::config::Secret> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const sb::config::Secret&, Context& ctx) const {
    return fmt::formatter<std::string_view>::format("<redacted>", ctx);
  }
};

#endif  // STANDBY_CONFIG_SECRET_H_
