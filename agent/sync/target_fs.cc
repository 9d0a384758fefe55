#include "agent/sync/target_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "agent/base/file.h"

namespace sb::sync {
namespace {

using base::Status;

// Far beyond any filesystem's range, and still a valid timespec.
constexpr int64_t kProbeLimit = int64_t{1} << 62;

// Whether the file `fd` keeps the time `s` as it was set.
bool Stores(int fd, int64_t s) {
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(s), 0}};
  struct stat st;
  return ::futimens(fd, times) == 0 && ::fstat(fd, &st) == 0 && st.st_mtim.tv_sec == s;
}

// The last time the file stores going from `stored` (a time it keeps)
// towards `far`, or `unbounded` when it keeps `far` itself: the stored times
// form one interval, the filesystem clamping at both ends, so a binary
// search finds each end in about 62 futimens + fstat pairs.
int64_t StoredEnd(int fd, int64_t stored, int64_t far, int64_t unbounded) {
  if (Stores(fd, far)) return unbounded;
  while (stored - far > 1 || far - stored > 1) {
    const int64_t mid = stored + (far - stored) / 2;
    (Stores(fd, mid) ? stored : far) = mid;
  }
  return stored;
}

// Around `anchor`, a time the file already has.
TimeRange Search(int fd, int64_t anchor) {
  return {StoredEnd(fd, anchor, -kProbeLimit, std::numeric_limits<int64_t>::min()),
          StoredEnd(fd, anchor, kProbeLimit, std::numeric_limits<int64_t>::max())};
}

}  // namespace

base::Result<TimeRange> ProbeTimeRange(int dir_fd, const char* fallback_name) {
  base::UniqueFd fd(::openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  bool named = false;
  if (!fd.valid() && fallback_name != nullptr &&
      (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    fd = base::UniqueFd(
        ::openat(dir_fd, fallback_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    named = fd.valid();
  }
  if (!fd.valid()) {
    return Status::Unavailable(
        fmt::format("cannot probe the times the filesystem stores: {}", std::strerror(errno)));
  }
  struct stat st;
  TimeRange range;
  if (::fstat(fd.get(), &st) == 0) range = Search(fd.get(), st.st_mtim.tv_sec);
  if (named) ::unlinkat(dir_fd, fallback_name, 0);
  return range;
}

base::Result<TargetFs> ProbeTargetFs(const std::string& dir, bool probe_times) {
  base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(dir, errno);
  struct statvfs fs {};
  if (::fstatvfs(fd.get(), &fs) != 0) return Status::FromErrno(dir, errno);
  TargetFs out;
  out.free_bytes = static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
  if (!probe_times) return out;
  base::Result<TimeRange> times = ProbeTimeRange(fd.get());
  if (times.ok()) out.times = *times;
  return out;
}

std::string FormatUtcSeconds(int64_t s) {
  const time_t t = static_cast<time_t>(s);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < -9999) {
    return fmt::format("@{}", s);
  }
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

base::Status CheckStorableTime(std::string_view what, int64_t mtime_s, const TimeRange& range) {
  if (range.Contains(mtime_s)) return Status::Ok();
  return Status::Invalid(fmt::format(
      "{}: its time {} cannot be stored by the target's filesystem, which keeps {} to {} "
      "(it would be clamped, and the target would differ from the backup)",
      what, FormatUtcSeconds(mtime_s), FormatUtcSeconds(range.min_s),
      FormatUtcSeconds(range.max_s)));
}

}  // namespace sb::sync
