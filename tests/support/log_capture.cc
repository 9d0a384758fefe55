#include "tests/support/log_capture.h"

#include <thread>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

namespace sb::testing {

struct LogCapture::Impl {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
};

LogCapture::LogCapture() : impl_(std::make_shared<Impl>()), previous_(spdlog::default_logger()) {
  auto logger = std::make_shared<spdlog::logger>("test", impl_->sink);
  logger->set_pattern("%l: %v");
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() { spdlog::set_default_logger(previous_); }

std::vector<std::string> LogCapture::Lines() const { return impl_->sink->last_formatted(); }

bool LogCapture::WaitFor(const std::vector<std::string>& parts,
                         std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const std::string& line : Lines()) {
      bool all = true;
      for (const std::string& p : parts) all = all && line.find(p) != std::string::npos;
      if (all) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string LogCapture::Dump() const {
  std::string out;
  for (const std::string& line : Lines()) out += line;
  return out;
}

}  // namespace sb::testing
