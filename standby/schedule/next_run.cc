#include "standby/schedule/next_run.h"

#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>

#include <fmt/format.h>

namespace sb::schedule {
namespace {

std::mutex tz_mu;

// Switches the process's local time zone for its lifetime. Hold tz_mu.
class ZoneScope {
 public:
  explicit ZoneScope(const std::string& zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", (":" + zone).c_str(), 1);
    ::tzset();
  }
  ~ZoneScope() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

// The instant of local time y-m-d h:m, by the rules in the header.
time_t Resolve(int year, int month, int day, int hour, int minute) {
  auto local = [&](int isdst) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_isdst = isdst;
    return tm;
  };
  std::optional<time_t> best;
  for (int isdst : {1, 0}) {
    std::tm tm = local(isdst);
    const time_t t = ::mktime(&tm);
    std::tm back{};
    ::localtime_r(&t, &back);
    const std::tm wanted = local(isdst);
    if (back.tm_year == wanted.tm_year && back.tm_mon == wanted.tm_mon &&
        back.tm_mday == wanted.tm_mday && back.tm_hour == hour && back.tm_min == minute &&
        back.tm_isdst == isdst) {
      if (!best || t < *best) best = t;
    }
  }
  if (best) return *best;
  // Skipped by a forward jump: read as standard time, which lands after it.
  std::tm tm = local(0);
  return ::mktime(&tm);
}

bool DayMatches(const CronSpec& spec, const std::tm& day) {
  if (!spec.months.test(day.tm_mon + 1)) return false;
  const bool dom = spec.days_of_month.test(day.tm_mday);
  const bool dow = spec.days_of_week.test(day.tm_wday);
  if (spec.dom_restricted && spec.dow_restricted) return dom || dow;
  if (spec.dom_restricted) return dom;
  if (spec.dow_restricted) return dow;
  return true;
}

}  // namespace

base::Result<int64_t> NextRun(const CronSpec& spec, const std::string& timezone, int64_t after_ms) {
  std::lock_guard<std::mutex> lock(tz_mu);
  ZoneScope zone(timezone);
  const time_t after = static_cast<time_t>(after_ms / 1000);
  std::tm start{};
  ::localtime_r(&after, &start);
  // Day by day from the local day of `after`; noon is never in a DST change.
  for (int d = 0; d < 8 * 366 + 2; ++d) {
    std::tm day{};
    day.tm_year = start.tm_year;
    day.tm_mon = start.tm_mon;
    day.tm_mday = start.tm_mday + d;
    day.tm_hour = 12;
    day.tm_isdst = -1;
    ::mktime(&day);  // normalizes the date and sets tm_wday
    if (!DayMatches(spec, day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!spec.hours.test(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!spec.minutes.test(m)) continue;
        const time_t t = Resolve(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday, h, m);
        if (int64_t{t} * 1000 > after_ms) return int64_t{t} * 1000;
      }
    }
  }
  return base::Status::NotFound("the schedule never fires within 8 years");
}

std::string FormatLocal(int64_t wall_ms, const std::string& timezone) {
  std::lock_guard<std::mutex> lock(tz_mu);
  ZoneScope zone(timezone);
  const time_t t = static_cast<time_t>(wall_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", &tm);
  return buf;
}

}  // namespace sb::schedule
