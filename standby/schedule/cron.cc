#include "standby/schedule/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace sb::schedule {
namespace {

struct Field {
  std::string_view name;
  int min, max;
  std::array<std::string_view, 12> names;  // names[i] means min + i; empty when none
};

constexpr Field kMinute{"minute", 0, 59, {}};
constexpr Field kHour{"hour", 0, 23, {}};
constexpr Field kDayOfMonth{"day of month", 1, 31, {}};
constexpr Field kMonth{
    "month",
    1,
    12,
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
// 7 is accepted as Sunday, like every cron since Vixie's.
constexpr Field kDayOfWeek{"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

base::Result<int> ParseValue(const Field& field, std::string_view text) {
  for (size_t i = 0; i < field.names.size() && !field.names[i].empty(); ++i) {
    if (text.size() == 3 &&
        std::tolower(static_cast<unsigned char>(text[0])) == field.names[i][0] &&
        std::tolower(static_cast<unsigned char>(text[1])) == field.names[i][1] &&
        std::tolower(static_cast<unsigned char>(text[2])) == field.names[i][2]) {
      return field.min + static_cast<int>(i);
    }
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return base::Status::Invalid(fmt::format("{}: \"{}\" is not a number", field.name, text));
  }
  if (value < field.min || value > field.max) {
    return base::Status::Invalid(
        fmt::format("{}: {} is out of range {}-{}", field.name, value, field.min, field.max));
  }
  return value;
}

// Parses one comma-separated field into `bits` (indexed by value).
template <size_t N>
base::Status ParseField(const Field& field, std::string_view text, std::bitset<N>* bits) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.empty()) {
      return base::Status::Invalid(
          fmt::format("{}: empty list element in \"{}\"", field.name, text));
    }
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = part.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
          step < 1 || step > field.max) {
        return base::Status::Invalid(fmt::format("{}: bad step \"{}\"", field.name, step_text));
      }
      part = part.substr(0, slash);
    }
    int low = field.min, high = field.max;
    if (part != "*") {
      size_t dash = part.find('-');
      base::Result<int> a = ParseValue(field, part.substr(0, dash));
      if (!a.ok()) return a.status();
      low = high = *a;
      if (dash != std::string_view::npos) {
        base::Result<int> b = ParseValue(field, part.substr(dash + 1));
        if (!b.ok()) return b.status();
        high = *b;
        if (high < low) {
          return base::Status::Invalid(
              fmt::format("{}: range \"{}\" runs backwards", field.name, part));
        }
      } else if (step != 1) {
        high = field.max;  // "5/15" means 5-max/15, as in Vixie cron
      }
    }
    for (int v = low; v <= high; v += step) bits->set(static_cast<size_t>(v % int(N)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return base::Status::Ok();
}

}  // namespace

base::Result<CronSpec> ParseCron(std::string_view expression) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
      {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  }};
  std::string_view text = expression;
  if (!text.empty() && text.front() == '@') {
    std::string_view found;
    for (const auto& [macro, fields] : kMacros) {
      if (text == macro) found = fields;
    }
    if (found.empty()) {
      return base::Status::Invalid(fmt::format(
          "unknown schedule \"{}\" (use @yearly, @monthly, @weekly, @daily, @hourly or five "
          "cron fields)",
          text));
    }
    text = found;
  }
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return base::Status::Invalid(
        fmt::format("\"{}\" has {} fields; expected 5 (minute hour day-of-month month day-of-week)",
                    expression, fields.size()));
  }
  CronSpec spec;
  SB_RETURN_IF_ERROR(ParseField(kMinute, fields[0], &spec.minutes));
  SB_RETURN_IF_ERROR(ParseField(kHour, fields[1], &spec.hours));
  SB_RETURN_IF_ERROR(ParseField(kDayOfMonth, fields[2], &spec.days_of_month));
  SB_RETURN_IF_ERROR(ParseField(kMonth, fields[3], &spec.months));
  SB_RETURN_IF_ERROR(ParseField(kDayOfWeek, fields[4], &spec.days_of_week));
  spec.dom_restricted = fields[2] != "*";
  spec.dow_restricted = fields[4] != "*";
  return spec;
}

}  // namespace sb::schedule
