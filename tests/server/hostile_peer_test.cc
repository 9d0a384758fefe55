// The agent as a real process, against peers that misbehave: connections
// nobody authenticated (stalled TCP connections, half-done TLS handshakes, a
// peer reconnecting in a loop) from other addresses of 127.0.0.0/8 never
// keep the controller out, and the agent's threads, descriptors and memory
// stay bounded and come back to where they were; strings a peer sends (a
// 1 MiB command name with a forged log line in it) reach neither the log nor
// a reply whole or raw. Bounded in count and time.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "standby/restore/restore_run.h"
#include "tests/support/agent_process.h"
#include "tests/support/tree_compare.h"

namespace sb::agent {
namespace {

using Clock = std::chrono::steady_clock;
using sb::testing::AgentProcess;
using sb::testing::TempDir;
using sb::testing::TestPki;

// A TCP socket from `source` to 127.0.0.1:`port`; waits up to `wait` for
// the connection to be made (0: not at all). -1 when it could not start.
int ConnectFrom(const char* source, int port, std::chrono::milliseconds wait) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  if (wait.count() > 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) {
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

// Whether the peer has closed `fd` (or reset it).
bool Closed(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

struct Attack {
  std::vector<int> fds;
  std::vector<SSL*> ssls;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  std::atomic<bool> stop{false};
  std::atomic<long> reconnects{0};
  std::vector<std::thread> threads;

  ~Attack() { End(); }

  // `count` TCP connections that never send a byte.
  void Stalled(const char* source, int port, int count) {
    for (int i = 0; i < count; ++i) {
      int fd = ConnectFrom(source, port, std::chrono::milliseconds(0));
      if (fd >= 0) fds.push_back(fd);
    }
  }

  // `count` TLS handshakes begun (a ClientHello sent) and never finished.
  void HalfHandshakes(const char* source, int port, int count) {
    for (int i = 0; i < count; ++i) {
      int fd = ConnectFrom(source, port, std::chrono::milliseconds(1000));
      if (fd < 0) continue;
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      (void)SSL_connect(ssl);  // non-blocking: sends the ClientHello, wants to read
      fds.push_back(fd);
      ssls.push_back(ssl);
    }
  }

  // A peer that connects, sends a byte and closes, again and again; and one
  // that keeps `held` connections open, opening a new one whenever the agent
  // closes one. Until End(), at most `seconds`.
  void Loops(int port, int held, int seconds) {
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    threads.emplace_back([this, port, until] {
      for (long i = 0; i < 1'000'000 && !stop && Clock::now() < until; ++i) {
        int fd = ConnectFrom("127.0.0.7", port, std::chrono::milliseconds(500));
        if (fd >= 0) {
          (void)!::write(fd, "x", 1);
          ::close(fd);
          ++reconnects;
        }
      }
    });
    threads.emplace_back([this, port, held, until] {
      std::vector<int> open;
      while (!stop && Clock::now() < until) {
        for (int& fd : open) {
          if (fd >= 0 && Closed(fd)) {
            ::close(fd);
            fd = -1;
          }
        }
        open.erase(std::remove(open.begin(), open.end(), -1), open.end());
        while (static_cast<int>(open.size()) < held) {
          int fd = ConnectFrom("127.0.0.8", port, std::chrono::milliseconds(0));
          if (fd < 0) break;
          open.push_back(fd);
          ++reconnects;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      for (int fd : open) ::close(fd);
    });
  }

  void End() {
    stop = true;
    for (std::thread& t : threads) t.join();
    threads.clear();
    for (SSL* ssl : ssls) SSL_free(ssl);
    ssls.clear();
    for (int fd : fds) ::close(fd);
    fds.clear();
    if (ctx != nullptr) SSL_CTX_free(ctx);
    ctx = nullptr;
  }
};

size_t CountLines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST_CASE(
    "agent: a flood of unauthenticated connections never keeps the controller out, and the "
    "agent's threads, descriptors and memory stay bounded",
    "[agent][flood]") {
  TestPki pki;
  TempDir dir;
  dir.Write("src/www/index.html", "<h1>ok</h1>\n");
  dir.Write("src/www/about.html", "<h1>about</h1>\n");
  AgentProcess agent(dir, pki, dir.Sub("target"));
  {  // warm: the first connection's allocations are part of idle
    auto warm = agent.Controller();
    REQUIRE(warm.ok());
    REQUIRE((*warm)->Call(proto::type::kPing, {}).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // reaped
  const AgentProcess::Usage idle = agent.ReadUsage();
  const size_t log_before = CountLines(agent.Log());

  // Sampled every 100 ms while the flood lasts.
  AgentProcess::Usage peak = idle;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    for (int i = 0; i < 600 && sampling; ++i) {
      const AgentProcess::Usage u = agent.ReadUsage();
      peak.threads = std::max(peak.threads, u.threads);
      peak.fds = std::max(peak.fds, u.fds);
      peak.rss_kb = std::max(peak.rss_kb, u.rss_kb);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  Attack attack;
  attack.Stalled("127.0.0.5", agent.port(), 500);
  attack.HalfHandshakes("127.0.0.6", agent.port(), 200);
  attack.Loops(agent.port(), 100, 20);
  INFO(attack.fds.size() << " attacker connections held, " << attack.ssls.size()
                         << " of them with a ClientHello sent");
  CHECK(attack.ssls.size() >= 150);

  // The controller, meanwhile: ten pings on new connections and a small
  // restore. Kept out, a ping would wait for an attacker's handshake to time
  // out (3 s): each must be well under that, and the median under 1 s (a
  // loaded 2-core machine under AddressSanitizer has taken 1.3 s for one).
  std::vector<double> ping_ms;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    base::Result<std::unique_ptr<client::AgentClient>> c = agent.Controller();
    base::Status pinged = c.ok() ? (*c)->Call(proto::type::kPing, {}).status() : c.status();
    ping_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    INFO("ping " << i << ": " << pinged.message());
    CHECK(pinged.ok());
    CHECK(ping_ms.back() < 2500);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  {
    std::vector<double> sorted = ping_ms;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted[sorted.size() / 2] < 1000);
  }
  {
    base::Result<std::unique_ptr<client::AgentClient>> c = agent.Controller();
    REQUIRE(c.ok());
    restore::RestoreSpec spec;
    spec.source = dir.Sub("src");
    spec.target = dir.Sub("target");
    base::Result<restore::RestoreReport> r = restore::RunRestore(**c, spec);
    INFO(r.status().message());
    CHECK(r.ok());
    CHECK(testing::TreeDifference(dir.Sub("src"), dir.Sub("target")) == "");
  }
  const long reconnects = attack.reconnects;
  attack.End();
  sampling = false;
  sampler.join();

  // Back to idle once the flood is over (the last handshakes time out).
  AgentProcess::Usage after = agent.ReadUsage();
  for (int i = 0; i < 100 && (after.threads != idle.threads || after.fds != idle.fds); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = agent.ReadUsage();
  }
  // What was not logged is summed up once the log budget's window (10 s) is over.
  std::string log = agent.Log();
  for (int i = 0; i < 120 && log.find("were not logged") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = agent.Log();
  }
  const size_t log_lines = CountLines(log) - log_before;
  WARN("flood: " << reconnects << " reconnects; pings "
                 << *std::min_element(ping_ms.begin(), ping_ms.end()) << " to "
                 << *std::max_element(ping_ms.begin(), ping_ms.end()) << " ms; agent threads "
                 << idle.threads << " -> peak " << peak.threads << " -> " << after.threads
                 << ", fds " << idle.fds << " -> " << peak.fds << " -> " << after.fds << ", RSS "
                 << idle.rss_kb << " -> " << peak.rss_kb << " -> " << after.rss_kb << " KiB; "
                 << log_lines << " log lines");
  // The limits: 2 x 32 handshakes (those being cut included) and 8 sessions.
  CHECK(peak.threads <= idle.threads + 2 * 32 + 8);
  CHECK(peak.fds <= idle.fds + 2 * (2 * 32 + 8));
  CHECK(after.threads == idle.threads);
  CHECK(after.fds == idle.fds);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in its quarantine (256 MiB by
  // default): the agent's RSS says nothing about its own use then.
  WARN("RSS not checked under AddressSanitizer");
#else
  CHECK(peak.rss_kb <= idle.rss_kb + 128L * 1024);
  CHECK(after.rss_kb <= idle.rss_kb + 64L * 1024);
#endif
  // Refusals are logged within a budget, the rest summed up.
  CHECK(log_lines < 400);
  CHECK(log.find("more refusals in the last 10s were not logged") != std::string::npos);
}

TEST_CASE("agent: a peer's strings reach the log and the replies escaped and cut short",
          "[agent]") {
  TestPki pki;
  TempDir dir;
  AgentProcess agent(dir, pki, dir.Sub("target"));
  base::Result<std::unique_ptr<client::AgentClient>> c = agent.Controller();
  REQUIRE(c.ok());
  // A 1 MiB command name that carries a forged log line.
  const std::string forged = "\n2026-12-01 00:00:00.000 standby-agent info: FORGED shutdown done\n";
  const std::string name = "x" + forged + std::string(1'000'000, 'y');
  base::Result<nlohmann::json> r = (*c)->Call(proto::type::kRunCommand, {{"name", name}});
  const std::string& message = r.status().message();
  CHECK(r.status().code() == base::Code::kPermissionDenied);
  CHECK(message.size() < 1024);
  CHECK(message.find('\n') == std::string::npos);
  CHECK_THAT(message, Catch::StartsWith("command \"x\\x0a2026-12-01 00:00:00.000 standby-agent "
                                        "info: FORGED shutdown done\\x0ayyy"));
  CHECK_THAT(message, Catch::EndsWith("...(1000067 bytes) is not on this agent's allow-list"));
  // Other strings a peer chooses: a lease holder, a message type, a path.
  CHECK((*c)->Call(proto::type::kLease, {{"holder", "h\nFORGED"}, {"ttl_ms", 60'000}}).ok());
  CHECK((*c)->Call(proto::type::kLease, {{"holder", "h\nFORGED"}, {"release", true}}).ok());
  CHECK_THAT((*c)->Call(proto::type::kScan, {{"root", "/srv/" + std::string(1 << 19, 'p')}})
                 .status()
                 .message()
                 .size(),
             Catch::Predicate<size_t>([](size_t n) { return n < 8192; }, "is short"));
  CHECK((*c)->Call(proto::type::kPing, {}).ok());  // still served

  // No line of the log is forged, and none is over 8 KiB and its prefix.
  const std::string log = agent.Log();
  CHECK(log.find("\n2026-12-01 00:00:00.000 standby-agent info: FORGED") == std::string::npos);
  CHECK(log.find("\nFORGED") == std::string::npos);
  CHECK(log.find("lease taken by \"h\\x0aFORGED\"") != std::string::npos);
  size_t longest = 0;
  for (size_t at = 0, end; at < log.size(); at = end + 1) {
    end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    longest = std::max(longest, end - at);
  }
  CHECK(longest < 8192 + 200);
}

}  // namespace
}  // namespace sb::agent
