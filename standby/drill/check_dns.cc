// The dns check: each name as the zone's authoritative server gives it
// (recursion off), over ldns. The TTL a cache would hold the old answer for
// is the authoritative server's, not what a resolver has left of it; it
// bounds how long clients keep going to the failed primary after a
// failover, so the drill adds the largest to its RTO (the effective
// failover time).

#include <arpa/inet.h>
// stdbool.h before ldns, which defines `bool` as a macro unless it says not
// to; a blank line keeps them in that order.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "agent/base/endpoint.h"
#include "agent/base/units.h"
#include "standby/drill/check_kinds.h"

namespace sb::drill::internal {
namespace {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using Resolver = std::unique_ptr<ldns_resolver, ResolverFree>;
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;
using RrList = std::unique_ptr<ldns_rr_list, RrListFree>;

std::string Text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s != nullptr ? s : "?";
  free(s);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

std::string Fqdn(std::string name) {
  if (!name.ends_with('.')) name += '.';
  return name;
}

// An address as ldns takes it (A or AAAA rdata), or null when `host` is not
// an address.
Rdf AddressRdf(const std::string& host) {
  in6_addr a{};
  if (::inet_pton(AF_INET, host.c_str(), &a) == 1) {
    return Rdf(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host.c_str()));
  }
  if (::inet_pton(AF_INET6, host.c_str(), &a) == 1) {
    return Rdf(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host.c_str()));
  }
  return nullptr;
}

void SetTimeouts(ldns_resolver* r, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ldns_resolver_set_timeout(r, tv);
  ldns_resolver_set_retry(r, 1);
}

// A resolver asking `address`:`port`.
base::Result<Resolver> ResolverAt(const std::string& address, uint16_t port, bool recursive,
                                  std::chrono::milliseconds timeout) {
  Rdf ns = AddressRdf(address);
  if (!ns) return base::Status::Invalid(fmt::format("{} is not an IP address", address));
  Resolver r(ldns_resolver_new());
  if (!r || ldns_resolver_push_nameserver(r.get(), ns.get()) != LDNS_STATUS_OK) {
    return base::Status::Internal("ldns: cannot make a resolver");
  }
  ldns_resolver_set_port(r.get(), port);
  ldns_resolver_set_recursive(r.get(), recursive);
  SetTimeouts(r.get(), timeout);
  return r;
}

// The recursive resolver that finds the zone's servers: the configured one,
// else /etc/resolv.conf's.
base::Result<Resolver> Recursive(const config::DnsCheck& c, std::chrono::milliseconds timeout) {
  if (!c.resolver.empty()) {
    base::Result<base::Endpoint> ep = base::ParseEndpoint(c.resolver, 53);
    if (!ep.ok()) return ep.status();
    return ResolverAt(ep->host, ep->port, true, timeout);
  }
  ldns_resolver* raw = nullptr;
  if (ldns_resolver_new_frm_file(&raw, nullptr) != LDNS_STATUS_OK) {
    return base::Status::Unavailable("cannot read the system's resolver from /etc/resolv.conf");
  }
  Resolver r(raw);
  ldns_resolver_set_recursive(r.get(), true);
  SetTimeouts(r.get(), timeout);
  return r;
}

struct Authority {
  std::string zone;
  std::string server;  // the name server's name, for messages
  std::string address;
  uint16_t port = 53;
};

// The zone of `name` and one of its servers: the closest enclosing name
// with NS records, and the first of them that has an address.
base::Result<Authority> FindAuthority(const config::DnsCheck& c, const std::string& name,
                                      std::chrono::milliseconds timeout) {
  base::Result<Resolver> recursive = Recursive(c, timeout);
  if (!recursive.ok()) return recursive.status();
  Rdf candidate(ldns_dname_new_frm_str(Fqdn(name).c_str()));
  if (!candidate) return base::Status::Invalid(fmt::format("\"{}\" is not a DNS name", name));
  while (candidate && ldns_dname_label_count(candidate.get()) > 0) {
    ldns_pkt* raw = nullptr;
    const ldns_status st = ldns_resolver_query_status(&raw, recursive->get(), candidate.get(),
                                                      LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, LDNS_RD);
    if (st != LDNS_STATUS_OK) {
      return base::Status::Unavailable(
          fmt::format("finding the servers of {}: {}", name, ldns_get_errorstr_by_id(st)));
    }
    Pkt pkt(raw);
    RrList ns(ldns_pkt_rr_list_by_name_and_type(pkt.get(), candidate.get(), LDNS_RR_TYPE_NS,
                                                LDNS_SECTION_ANSWER));
    for (size_t i = 0; ns && i < ldns_rr_list_rr_count(ns.get()); ++i) {
      const ldns_rdf* server = ldns_rr_rdf(ldns_rr_list_rr(ns.get(), i), 0);
      RrList addresses(
          ldns_get_rr_list_addr_by_name(recursive->get(), server, LDNS_RR_CLASS_IN, LDNS_RD));
      if (!addresses || ldns_rr_list_rr_count(addresses.get()) == 0) continue;
      Authority a;
      a.zone = Text(candidate.get());
      a.server = Text(server);
      a.address = Text(ldns_rr_rdf(ldns_rr_list_rr(addresses.get(), 0), 0));
      a.port = c.ns_port;
      return a;
    }
    candidate.reset(ldns_dname_left_chop(candidate.get()));
  }
  return base::Status::Unavailable(
      fmt::format("no zone with a name server that has an address was found for {}", name));
}

ldns_rr_type RrType(const std::string& type) {
  if (type == "AAAA") return LDNS_RR_TYPE_AAAA;
  if (type == "CNAME") return LDNS_RR_TYPE_CNAME;
  return LDNS_RR_TYPE_A;
}

struct Answer {
  std::vector<std::string> values;  // of the type asked for
  std::string cname;                // where the name points instead, if it does
  uint32_t max_ttl = 0;             // of every record in the answer
};

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string Ttl(uint32_t seconds) { return base::FormatDuration(std::chrono::seconds(seconds)); }

}  // namespace

CheckRun RunDnsCheck(const config::SmokeCheck& check, const CheckTarget& /*target*/) {
  CheckRecorder rec(check);
  const config::DnsCheck& c = check.dns;
  nlohmann::json& names = rec.measured()["names"] = nlohmann::json::object();
  uint32_t max_ttl = 0;
  std::string max_ttl_name;
  std::vector<std::string> summary;
  for (const std::string& name : c.names) {
    Authority authority;
    if (!c.server.empty()) {
      base::Result<base::Endpoint> ep = base::ParseEndpoint(c.server, 53);
      if (!ep.ok()) return rec.NotRun(ep.status());
      authority.address = ep->host;
      authority.server = ep->ToString();
      authority.port = ep->port;
    } else {
      base::Result<Authority> found = FindAuthority(c, name, check.timeout);
      if (!found.ok()) return rec.NotRun(found.status());
      authority = *found;
    }
    base::Result<Resolver> r = ResolverAt(authority.address, authority.port, false, check.timeout);
    if (!r.ok()) return rec.NotRun(r.status());
    Rdf dname(ldns_dname_new_frm_str(Fqdn(name).c_str()));
    if (!dname)
      return rec.NotRun(base::Status::Invalid(fmt::format("\"{}\" is not a DNS name", name)));
    const std::string where =
        fmt::format("{} at {} ({}:{})", name, authority.server, authority.address, authority.port);
    ldns_pkt* raw = nullptr;
    const ldns_status st = ldns_resolver_query_status(&raw, r->get(), dname.get(), RrType(c.type),
                                                      LDNS_RR_CLASS_IN, 0);
    if (st != LDNS_STATUS_OK) {
      return rec.NotRun(
          base::Status::Unavailable(fmt::format("{}: {}", where, ldns_get_errorstr_by_id(st))));
    }
    Pkt pkt(raw);
    const ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt.get());
    if (rcode == LDNS_RCODE_NXDOMAIN) {
      return rec.Fail(fmt::format("{}: no such name (NXDOMAIN)", where), true);
    }
    if (rcode != LDNS_RCODE_NOERROR) {
      return rec.NotRun(base::Status::Unavailable(
          fmt::format("{}: the server answered rcode {}", where, static_cast<int>(rcode))));
    }
    if (!ldns_pkt_aa(pkt.get())) {
      return rec.NotRun(base::Status::Invalid(fmt::format(
          "{}: the answer is not authoritative, so its TTL is a cache's; name the zone's own "
          "server",
          where)));
    }
    Answer answer;
    const ldns_rr_list* rrs = ldns_pkt_answer(pkt.get());
    for (size_t i = 0; rrs != nullptr && i < ldns_rr_list_rr_count(rrs); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(rrs, i);
      answer.max_ttl = std::max(answer.max_ttl, ldns_rr_ttl(rr));
      if (ldns_rr_rd_count(rr) == 0) continue;
      if (ldns_rr_get_type(rr) == RrType(c.type)) {
        answer.values.push_back(Text(ldns_rr_rdf(rr, 0)));
      } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && answer.cname.empty()) {
        answer.cname = Text(ldns_rr_rdf(rr, 0));
      }
    }
    names[name] = {{"ttl_s", answer.max_ttl}, {"answers", answer.values}, {"server", where}};
    if (answer.values.empty()) {
      if (!answer.cname.empty()) {
        return rec.Fail(fmt::format("{}: no {} record; the name is a CNAME to {} (TTL {}), whose "
                                    "zone answers for it: list that name too, or check this "
                                    "one with type = \"CNAME\"",
                                    where, c.type, answer.cname, Ttl(answer.max_ttl)),
                        true);
      }
      return rec.Fail(fmt::format("{}: no {} record", where, c.type), true);
    }
    for (const std::string& want : c.expect) {
      const bool found =
          std::any_of(answer.values.begin(), answer.values.end(),
                      [&](const std::string& v) { return v == want || v == Fqdn(want); });
      if (!found) {
        return rec.Fail(fmt::format("{}: {} is {}, not {}: clients would not go there", where,
                                    c.type, Joined(answer.values), want));
      }
    }
    if (answer.max_ttl >= max_ttl) {
      max_ttl = answer.max_ttl;
      max_ttl_name = name;
    }
    summary.push_back(
        fmt::format("{} {} TTL {}", name, Joined(answer.values), Ttl(answer.max_ttl)));
  }
  rec.measured()["max_ttl_s"] = max_ttl;
  rec.set_max_ttl(std::chrono::seconds(max_ttl));
  if (std::chrono::seconds(max_ttl) > c.max_ttl) {
    return rec.Fail(
        fmt::format("{}: TTL {}, above max_ttl {}: clients may keep going to the old "
                    "address for {} after a failover",
                    max_ttl_name, Ttl(max_ttl), base::FormatDuration(c.max_ttl), Ttl(max_ttl)),
        true);
  }
  return rec.Pass(Joined(summary));
}

}  // namespace sb::drill::internal
