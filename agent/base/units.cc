#include "agent/base/units.h"

#include <array>
#include <cctype>
#include <ctime>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace sb::base {
namespace {

// Reads a run of decimal digits at the front of `s`, advancing it. Fails on
// no digits or on overflow of uint64_t.
bool TakeNumber(std::string_view* s, uint64_t* out) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < s->size() && std::isdigit(static_cast<unsigned char>((*s)[i]))) {
    uint64_t digit = static_cast<uint64_t>((*s)[i] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) return false;
  *out = n;
  s->remove_prefix(i);
  return true;
}

std::string_view TakeUnit(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && std::isalpha(static_cast<unsigned char>((*s)[i]))) ++i;
  std::string_view unit = s->substr(0, i);
  s->remove_prefix(i);
  return unit;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, int64_t>, 5> kUnitsMs = {
      {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}}};
  const std::string expected = "expected a duration like \"30s\", \"45m\" or \"1h30m\"";
  if (text.empty()) return Status::Invalid(fmt::format("empty duration; {}", expected));
  if (text.front() == '-') {
    return Status::Invalid(fmt::format("duration \"{}\" is negative", text));
  }
  std::string_view rest = text;
  int64_t total_ms = 0;
  while (!rest.empty()) {
    uint64_t n = 0;
    if (!TakeNumber(&rest, &n)) {
      return Status::Invalid(fmt::format("bad duration \"{}\"; {}", text, expected));
    }
    std::string_view unit = TakeUnit(&rest);
    if (unit.empty()) {
      return Status::Invalid(
          fmt::format("duration \"{}\" has a number without a unit (ms, s, m, h, d)", text));
    }
    int64_t scale = 0;
    for (const auto& [name, ms] : kUnitsMs) {
      if (unit == name) scale = ms;
    }
    if (scale == 0) {
      return Status::Invalid(fmt::format(
          "duration \"{}\" has unknown unit \"{}\" (use ms, s, m, h or d)", text, unit));
    }
    constexpr int64_t kMaxMs = int64_t{100} * 365 * 86400 * 1000;  // 100 years
    if (n > static_cast<uint64_t>(kMaxMs / scale) || total_ms + int64_t(n) * scale > kMaxMs) {
      return Status::Invalid(fmt::format("duration \"{}\" is longer than 100 years", text));
    }
    total_ms += static_cast<int64_t>(n) * scale;
  }
  return Duration(total_ms);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms < 0) return "-" + FormatDuration(Duration(-ms));
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < int64_t{60} * 1000) {
    return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000)
                          : fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  }
  int64_t s = ms / 1000;
  int64_t days = s / 86400, hours = s / 3600 % 24, minutes = s / 60 % 60, seconds = s % 60;
  std::string out;
  if (days) out += fmt::format("{}d", days);
  if (hours) out += fmt::format("{}h", hours);
  if (minutes) out += fmt::format("{}m", minutes);
  if (seconds && days == 0) out += fmt::format("{}s", seconds);
  return out;
}

Result<uint64_t> ParseSize(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 9> kUnits = {{
      {"B", 1},
      {"KiB", uint64_t{1} << 10},
      {"MiB", uint64_t{1} << 20},
      {"GiB", uint64_t{1} << 30},
      {"TiB", uint64_t{1} << 40},
      {"kB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
      {"TB", uint64_t{1000} * 1000 * 1000 * 1000},
  }};
  if (!text.empty() && text.front() == '-') {
    return Status::Invalid(fmt::format("size \"{}\" is negative", text));
  }
  std::string_view rest = text;
  uint64_t n = 0;
  if (!TakeNumber(&rest, &n)) {
    return Status::Invalid(
        fmt::format("bad size \"{}\"; expected a size like \"512MiB\" or \"2GiB\"", text));
  }
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string_view unit = TakeUnit(&rest);
  if (!rest.empty()) {
    return Status::Invalid(
        fmt::format("bad size \"{}\"; expected a size like \"512MiB\" or \"2GiB\"", text));
  }
  uint64_t scale = unit.empty() ? 1 : 0;
  for (const auto& [name, bytes] : kUnits) {
    if (unit == name) scale = bytes;
  }
  if (scale == 0) {
    return Status::Invalid(fmt::format(
        "size \"{}\" has unknown unit \"{}\" (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)", text,
        unit));
  }
  if (n > std::numeric_limits<uint64_t>::max() / scale) {
    return Status::Invalid(fmt::format("size \"{}\" is too large", text));
  }
  return n * scale;
}

std::string FormatSize(uint64_t bytes) {
  static constexpr std::array<std::string_view, 5> kNames = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  size_t i = 0;
  while (v >= 1024 && i + 1 < kNames.size()) {
    v /= 1024;
    ++i;
  }
  return fmt::format("{:.1f} {}", v, kNames[i]);
}

std::string Rfc3339(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sb::base
