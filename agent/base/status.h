// Status and Result<T>: expected failures as values.
//
// A Status is either ok or carries a category (Code) and a message that names
// the thing that failed and where (a path, host:port, FILE:LINE:COL). Result<T>
// holds either a T or a non-ok Status. Both are cheap to move, immutable once
// made, and safe to share between threads like any other value.

#ifndef AGENT_BASE_STATUS_H_
#define AGENT_BASE_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sb::base {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input: config, archive, message, reply
  kNotFound,            // a named thing does not exist
  kIoError,             // the operating system refused (read, write, fsync)
  kCorruption,          // stored data is not what it should be
  kPermissionDenied,    // refused by policy: file mode, role, allow-list
  kTimeout,             // a bounded wait ran out
  kUnavailable,         // a peer did not answer or is busy; may be retried
  kFailedPrecondition,  // the system is not in a state that allows this
  kInternal,            // a broken invariant in our own code
};

// The lower-case name of a code, as printed in logs and JSON ("io error").
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != Code::kOk);
  }

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  // Builds an kIoError status from errno: "<what>: <strerror(err)>".
  static Status FromErrno(std::string_view what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "ok", or the message alone: messages already say what and where.
  std::string ToString() const { return ok() ? "ok" : message_; }

  // A copy with "<context>: " put before the message; ok stays ok.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sb::base

// Returns early from the enclosing function when `expr` is a non-ok Status.
#define SB_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::sb::base::Status sb_status_ = (expr);  \
    if (!sb_status_.ok()) return sb_status_; \
  } while (0)

#endif  // AGENT_BASE_STATUS_H_
