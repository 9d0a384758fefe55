// Measures the controller-agent channel on loopback: bulk throughput of a
// stream of data chunks through TLS and framing, and round trips per second
// of small pipelined requests answered by a real AgentServer. Prints one JSON
// object. Run by scripts/bench/channel, which sets it beside the cipher's
// own speed; not a test.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "agent/net/channel.h"
#include "tests/support/agent_fixture.h"

namespace {

using Clock = std::chrono::steady_clock;
using sb::testing::TestAgent;
using sb::testing::TestPki;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Streams `total` bytes in chunk frames from a client to a server thread over
// one TLS connection; returns MB/s (10^6 bytes) measured until the server's
// acknowledgement of the last byte.
double BulkMBps(const TestPki& pki, uint64_t total, size_t chunk_bytes) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0) {
    std::perror("channel_bench: listening on 127.0.0.1");
    std::abort();
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  auto server_tls = sb::net::TlsContext::ForServer(pki.standby_agent);
  auto client_tls = sb::net::TlsContext::ForClient(pki.controller);
  std::thread server([&] {
    int fd = ::accept(listener, nullptr, nullptr);
    auto stream = sb::net::TlsStream::Accept(fd, *server_tls, "bench",
                                             sb::net::After(std::chrono::seconds(10)));
    if (!stream.ok()) std::abort();
    sb::net::Channel channel(std::move(*stream));
    uint64_t received = 0;
    while (received < total) {
      auto frame = channel.ReadFrame(sb::net::After(std::chrono::seconds(60)));
      if (!frame.ok()) std::abort();
      received += frame->payload.size() - 8;
    }
    sb::proto::Message ack;
    ack.type = "Ack";
    (void)channel.WriteMessage(ack, sb::net::After(std::chrono::seconds(10)));
  });
  auto stream =
      sb::net::TlsStream::Connect({"127.0.0.1", ntohs(addr.sin_port)}, *client_tls, "web1-standby",
                                  sb::net::After(std::chrono::seconds(10)));
  if (!stream.ok()) std::abort();
  sb::net::Channel channel(std::move(*stream));
  std::string chunk(chunk_bytes, 'x');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 131 + 7);
  auto start = Clock::now();
  for (uint64_t sent = 0; sent < total; sent += chunk.size()) {
    if (!channel.WriteChunk(1, chunk, sb::net::After(std::chrono::seconds(60))).ok()) {
      std::abort();
    }
  }
  if (!channel.ReadMessage(sb::net::After(std::chrono::seconds(60))).ok()) std::abort();
  double secs = Seconds(Clock::now() - start);
  server.join();
  ::close(listener);
  return static_cast<double>(total) / 1e6 / secs;
}

// Keeps `window` Pings in flight against a real agent; returns replies per
// second over `count` requests.
double RoundTripsPerSecond(const TestAgent& agent, int count, int window) {
  auto controller = agent.Controller();
  auto start = Clock::now();
  int sent = 0, received = 0;
  while (received < count) {
    while (sent < count && sent - received < window) {
      if (!controller->Send(sb::proto::type::kPing).ok()) std::abort();
      ++sent;
    }
    if (!controller->Receive().ok()) std::abort();
    ++received;
  }
  return count / Seconds(Clock::now() - start);
}

}  // namespace

int main(int argc, char** argv) try {
  spdlog::set_level(spdlog::level::warn);
  uint64_t bulk_bytes = argc > 1 ? std::stoull(argv[1]) : (uint64_t{1} << 30);
  int requests = argc > 2 ? std::stoi(argv[2]) : 50'000;
  TestPki pki;
  double bulk = BulkMBps(pki, bulk_bytes, size_t{256} * 1024);
  TestAgent agent(pki, sb::agent::Role::kStandby);
  double rtt = RoundTripsPerSecond(agent, requests, 32);
  nlohmann::json out = {
      {"bulk_MBps", bulk}, {"rtt_per_s", rtt}, {"bulk_bytes", bulk_bytes}, {"requests", requests}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "channel_bench: %s (usage: channel_bench [BULK_BYTES [REQUESTS]])\n",
               e.what());
  return 2;
}
