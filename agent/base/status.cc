#include "agent/base/status.h"

#include <cstring>

#include <fmt/format.h>

namespace sb::base {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kIoError:
      return "io error";
    case Code::kCorruption:
      return "corruption";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kTimeout:
      return "timeout";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kFailedPrecondition:
      return "failed precondition";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Status Status::FromErrno(std::string_view what, int err) {
  Code code = Code::kIoError;
  if (err == ENOENT) code = Code::kNotFound;
  if (err == EACCES || err == EPERM) code = Code::kPermissionDenied;
  return Status(code, fmt::format("{}: {}", what, std::strerror(err)));
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, fmt::format("{}: {}", context, message_));
}

}  // namespace sb::base
