#include "agent/base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iterator>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "agent/base/quote.h"

namespace sb::base {
namespace {

// One JSON object per line: {"ts":..., "level":..., "program":..., "msg":...}.
// spdlog's pattern language cannot escape the message, so this formats it.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string program) : program_(std::move(program)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto since_epoch = msg.time.time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - secs);
    nlohmann::json line = {
        {"ts", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
                           fmt::gmtime(static_cast<std::time_t>(secs.count())), micros.count())},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"program", program_},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(program_);
  }

 private:
  std::string program_;
};

// What every log line's message goes through, whatever the format: control
// characters escaped (a newline in a peer's string cannot forge a line) and
// the message cut at kMaxLogMessageBytes (a 1 MiB string cannot fill the log).
class SafeFormatter final : public spdlog::formatter {
 public:
  explicit SafeFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string safe =
        Printable(std::string_view(msg.payload.data(), msg.payload.size()), kMaxLogMessageBytes);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(safe.data(), safe.size());
    inner_->format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<SafeFormatter>(inner_->clone());
  }

 private:
  static constexpr size_t kMaxLogMessageBytes = 8192;
  std::unique_ptr<spdlog::formatter> inner_;
};

// journald's stream protocol: the syslog priority in angle brackets first.
class JournalFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    int priority = 6;
    switch (msg.level) {
      case spdlog::level::critical:
        priority = 2;
        break;
      case spdlog::level::err:
        priority = 3;
        break;
      case spdlog::level::warn:
        priority = 4;
        break;
      case spdlog::level::info:
        priority = 6;
        break;
      default:
        priority = 7;
    }
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    fmt::format_to(std::back_inserter(dest), "<{}>{}: {}\n", priority,
                   std::string_view(level.data(), level.size()),
                   std::string_view(msg.payload.data(), msg.payload.size()));
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalFormatter>();
  }
};

}  // namespace

LogFormat ChooseLogFormat(std::string_view requested, bool given) {
  if (requested == "json") return LogFormat::kJson;
  if (requested == "journal") return LogFormat::kJournal;
  if (given) return LogFormat::kText;
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return LogFormat::kText;
  const std::string expected = fmt::format("{}:{}", st.st_dev, st.st_ino);
  return expected == stream ? LogFormat::kJournal : LogFormat::kText;
}

Status InitLogging(std::string_view program, LogFormat format, std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::Invalid(fmt::format(
        "unknown log level \"{}\" (use trace, debug, info, warn, error or off)", level));
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::string(program), sink);
  std::unique_ptr<spdlog::formatter> inner;
  if (format == LogFormat::kJson) {
    inner = std::make_unique<JsonFormatter>(std::string(program));
  } else if (format == LogFormat::kJournal) {
    inner = std::make_unique<JournalFormatter>();
  } else {
    inner = std::make_unique<spdlog::pattern_formatter>(
        fmt::format("%Y-%m-%d %H:%M:%S.%e {} %^%l%$: %v", program));
  }
  logger->set_formatter(std::make_unique<SafeFormatter>(std::move(inner)));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

}  // namespace sb::base
