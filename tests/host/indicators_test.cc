#include "agent/host/indicators.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace sb::host {
namespace {

using sb::testing::TempDir;

TEST_CASE("indicators: a made-up /proc is read field by field", "[indicators]") {
  TempDir proc;
  proc.Write("loadavg", "1.50 0.75 0.25 2/300 1234\n");
  proc.Write("pressure/cpu", "some avg10=12.50 avg60=3.00 avg300=1.00 total=1\n");
  proc.Write("pressure/io",
             "some avg10=1.00 avg60=2.00 avg300=3.00 total=1\n"
             "full avg10=0.50 avg60=0.25 avg300=0.10 total=1\n");
  proc.Write("meminfo",
             "MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    400 kB\n"
             "SwapTotal:      200 kB\nSwapFree:       150 kB\n");
  proc.Write("vmstat", "nr_free_pages 1\npswpin 7\npswpout 9\n");
  proc.Write("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
  // Three sockets: a listener on 7443, an ESTABLISHED one from port 40000,
  // and a CLOSE_WAIT one from port 40001 (inode 555).
  proc.Write("net/tcp",
             "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid "
             " timeout inode\n"
             "   0: 0100007F:1D13 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
             "       0 111 1 0\n"
             "   1: 0100007F:9C40 0100007F:1D13 01 00000000:00000000 00:00000000 00000000     0 "
             "       0 222 1 0\n"
             "   2: 0100007F:9C41 0100007F:0050 08 00000000:00000000 00:00000000 00000000     0 "
             "       0 555 1 0\n");
  proc.Write("net/tcp6", "  sl  local_address header only\n");
  // Process 4242 ("stuck-client") holds the CLOSE_WAIT socket.
  proc.Write("4242/comm", "stuck-client\n");
  REQUIRE(::mkdir(proc.Sub("4242/fd").c_str(), 0755) == 0);
  REQUIRE(::symlink("socket:[555]", proc.Sub("4242/fd/3").c_str()) == 0);
  REQUIRE(::symlink("/dev/null", proc.Sub("4242/fd/0").c_str()) == 0);

  Indicators in = ReadIndicators(proc.path());
  CHECK(in.load1 == Approx(1.5));
  REQUIRE(in.cpu.has_value());
  CHECK(in.cpu->some_avg10 == Approx(12.5));
  CHECK_FALSE(in.cpu->full_avg10.has_value());
  REQUIRE(in.io.has_value());
  CHECK(in.io->full_avg10 == Approx(0.5));
  CHECK_FALSE(in.memory.has_value());  // no file: absent, not zero
  CHECK(in.mem_available_kb == 400);
  CHECK(in.swap_free_kb == 150);
  CHECK(in.swap_out_pages == 9);
  CHECK(in.tcp_states["LISTEN"] == 1);
  CHECK(in.tcp_states["ESTABLISHED"] == 1);
  CHECK(in.close_wait == 1);
  REQUIRE(in.close_wait_owners.size() == 1);
  CHECK(in.close_wait_owners[0].pid == 4242);
  CHECK(in.close_wait_owners[0].command == "stuck-client");
  CHECK(in.ephemeral_low == 32768);
  CHECK(in.ephemeral_in_use == 2);  // 40000 and 40001; the listener's 7443 is not ephemeral

  nlohmann::json j = ToJson(in);
  CHECK(j["ephemeral_ports"]["size"] == 28232);
  CHECK(j["pressure"]["memory"].is_null());
}

TEST_CASE("indicators: the real /proc of this machine reads without error", "[indicators]") {
  Indicators in = ReadIndicators();
  CHECK(in.mem_total_kb > 0);
  CHECK(in.ephemeral_high > in.ephemeral_low);
}

}  // namespace
}  // namespace sb::host
