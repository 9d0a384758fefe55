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
  proc.Write("stat",
             "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 5 0 5 50 0 0 0 0 0 0\n"
             "cpu1 5 0 5 50 0 0 0 0 0 0\nintr 1 2 3\nctxt 99\nprocesses 123456\n"
             "procs_running 7\nprocs_blocked 0\n");
  // logind's sessions: two logins and one other session; ".ref" files and
  // anything not an ID are not sessions.
  TempDir run;
  run.Write("systemd/sessions/41", "");
  run.Write("systemd/sessions/57", "");
  run.Write("systemd/sessions/c3", "");
  run.Write("systemd/sessions/57.ref", "");
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

  Indicators in = ReadIndicators(proc.path(), run.path());
  CHECK(in.load1 == Approx(1.5));
  CHECK(in.cpus == 2);
  CHECK(in.procs_running == 7);
  CHECK(in.forks == 123456);
  CHECK(in.logind_sessions == 3);
  CHECK(in.logind_last_id == uint64_t{57});
  CHECK_FALSE(in.agent_sessions.has_value());  // the agent sets it
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

  // What the controller reads back is what the agent read.
  in.agent_sessions = 12;
  base::Result<Indicators> back = IndicatorsFromJson(ToJson(in));
  REQUIRE(back.ok());
  CHECK(ToJson(*back) == ToJson(in));
  CHECK(back->close_wait_owners.at(0).command == "stuck-client");
  CHECK_FALSE(back->memory.has_value());
  CHECK(back->io->full_avg10 == Approx(0.5));
}

TEST_CASE("indicators: a host without logind or PSI leaves them absent", "[indicators]") {
  TempDir proc, run;
  proc.Write("loadavg", "0.10 0.10 0.10 1/100 1\n");
  Indicators in = ReadIndicators(proc.path(), run.path());
  CHECK_FALSE(in.logind_sessions.has_value());
  CHECK_FALSE(in.cpu.has_value());
  CHECK(in.cpus == 0);
  CHECK_FALSE(ToJson(in).contains("logind"));
}

TEST_CASE("indicators: a reply of the wrong shape is an error naming the field", "[indicators]") {
  CHECK(IndicatorsFromJson(nlohmann::json::array()).status().message() ==
        "agent indicators: not a JSON object");
  nlohmann::json j = ToJson(Indicators());
  j["tcp"]["close_wait"] = "many";
  CHECK(IndicatorsFromJson(j).status().message() ==
        "agent indicators: /tcp/close_wait has the wrong type: \"many\"");
  // An older agent's reply, without the newer fields, still reads.
  nlohmann::json old = ToJson(Indicators());
  old.erase("forks");
  old.erase("cpus");
  base::Result<Indicators> in = IndicatorsFromJson(old);
  REQUIRE(in.ok());
  CHECK(in->forks == 0);
}

TEST_CASE("indicators: the real /proc of this machine reads without error", "[indicators]") {
  Indicators in = ReadIndicators();
  CHECK(in.mem_total_kb > 0);
  CHECK(in.ephemeral_high > in.ephemeral_low);
}

}  // namespace
}  // namespace sb::host
