#include "tests/support/dns_server.h"

#include <stdexcept>

#include <fmt/format.h>

#include "agent/base/file.h"

namespace sb::testing {

DnsServer::DnsServer(const TempDir& dir, const std::string& address, const std::string& zone,
                     const std::string& records)
    : address_(address), port_(FreePort()) {
  const std::string root = dir.Sub("nsd");
  dir.Write("nsd/" + zone + ".zone", fmt::format("$ORIGIN {}.\n{}", zone, records));
  const std::string conf = dir.Write(
      "nsd/nsd.conf",
      fmt::format("server:\n  ip-address: {addr}@{port}\n  port: {port}\n  username: \"\"\n"
                  "  chroot: \"\"\n  zonesdir: \"{root}\"\n  database: \"\"\n"
                  "  pidfile: \"{root}/nsd.pid\"\n  xfrdfile: \"{root}/xfrd.state\"\n"
                  "  zonelistfile: \"{root}/zone.list\"\n  server-count: 1\n  verbosity: 1\n"
                  "remote-control:\n  control-enable: no\nzone:\n  name: {zone}\n"
                  "  zonefile: {zone}.zone\n",
                  fmt::arg("addr", address), fmt::arg("port", port_), fmt::arg("root", root),
                  fmt::arg("zone", zone)));
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"/usr/sbin/nsd", "-d", "-c", conf}, root + "/nsd.log");
  if (!WaitForPort(address, port_)) {
    base::Result<std::string> log = base::ReadFile(root + "/nsd.log");
    throw std::runtime_error("nsd did not start:\n" + (log.ok() ? *log : log.status().message()));
  }
}

}  // namespace sb::testing
