#include "standby/restore/source_age.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "standby/restore/source.h"

namespace sb::restore {

base::Status CheckSourceAge(const config::RestoreMapping& m, const SourceAge& age,
                            int64_t now_wall_ms) {
  const int64_t age_ms = now_wall_ms - age.newest_wall_ms;
  if (-age_ms > std::chrono::milliseconds(kClockSkewAllowance).count()) {
    return base::Status::FailedPrecondition(fmt::format(
        "backup {} is dated {} in the future ({}), more than the {} two clocks may differ: its "
        "age is unknown, so max_age and the RPO cannot be checked; check the clock of the host "
        "that wrote it{}",
        m.source, base::FormatDuration(std::chrono::milliseconds(-age_ms)), age.from,
        base::FormatDuration(kClockSkewAllowance),
        age.from.starts_with("canary") ? " and the canary's text" : ""));
  }
  if (m.max_age && age_ms > m.max_age->count()) {
    return base::Status::FailedPrecondition(
        fmt::format("backup {} is {} old ({}), older than its max_age of {}", m.source,
                    base::FormatDuration(std::chrono::milliseconds(age_ms)), age.from,
                    base::FormatDuration(*m.max_age)));
  }
  return base::Status::Ok();
}

base::Result<int64_t> ParseCanaryTime(std::string_view text) {
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
  if (!t.empty() && t.size() <= 12 && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::stoll(t) * 1000;
  }
  std::tm tm{};
  const char* end = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end != nullptr && (std::string_view(end) == "Z" || std::string_view(end) == "+00:00")) {
    return static_cast<int64_t>(::timegm(&tm)) * 1000;
  }
  return base::Status::Invalid(
      fmt::format("\"{}\" is not a time (expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ)",
                  t.size() > 40 ? t.substr(0, 40) + "..." : t));
}

namespace {

base::Result<std::string> ReadCanary(const ResolvedSource& source, const std::string& canary) {
  if (source.kind == ResolvedSource::Kind::kDirectory) {
    return base::ReadFile(source.path + "/" + canary);
  }
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(source);
  if (!reader.ok()) return reader.status();
  SourceEntry entry;
  for (;;) {
    base::Result<bool> more = (*reader)->Next(&entry);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (entry.path != canary || entry.type != EntryType::kFile) continue;
    std::string text;
    char buf[4096];
    for (;;) {
      base::Result<size_t> n = (*reader)->Read(buf, sizeof buf);
      if (!n.ok()) return n.status();
      if (*n == 0 || text.size() > 4096) break;
      text.append(buf, *n);
    }
    return text;
  }
  return base::Status::NotFound(fmt::format("{} has no file {}", source.path, canary));
}

}  // namespace

base::Result<SourceAge> ReadSourceAge(const config::RestoreMapping& mapping) {
  base::Result<ResolvedSource> source = ResolveSource(mapping.source);
  if (!source.ok()) return source.status();
  SourceAge age;
  if (!mapping.canary.empty()) {
    base::Result<std::string> text = ReadCanary(*source, mapping.canary);
    if (!text.ok()) {
      return base::Status::NotFound(fmt::format("canary {} of {}: {}", mapping.canary, source->path,
                                                text.status().message()));
    }
    base::Result<int64_t> at = ParseCanaryTime(*text);
    if (!at.ok()) {
      return base::Status::Invalid(
          fmt::format("canary {} of {}: {}", mapping.canary, source->path, at.status().message()));
    }
    age.newest_wall_ms = *at;
    age.from = "canary " + mapping.canary;
    age.canary_text = *text;
    return age;
  }
  if (source->kind == ResolvedSource::Kind::kArchive) {
    age.newest_wall_ms = source->file_mtime_ns / 1'000'000;
    age.from = "archive time";
    return age;
  }
  // A directory: the newest modification in it (lstat only, bounded by the
  // tree's size).
  namespace fs = std::filesystem;
  std::error_code ec;
  int64_t newest = 0;
  auto consider = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      newest = std::max<int64_t>(
          newest, int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000);
    }
  };
  consider(source->path);
  for (fs::recursive_directory_iterator it(source->path, ec), end; !ec && it != end;
       it.increment(ec)) {
    consider(it->path());
  }
  if (ec) {
    return base::Status::IoError(fmt::format("cannot walk {}: {}", source->path, ec.message()));
  }
  age.newest_wall_ms = newest;
  age.from = "newest file";
  return age;
}

}  // namespace sb::restore
