// `standbyctl pki init DIR` and `standbyctl pki issue`: the certificates of
// the controller-agent channel, without typing an openssl command.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "standby/cli/command.h"
#include "standby/pki/pki.h"

namespace sb::cli {
namespace {

struct IssueArgs {
  std::string dir = "/etc/standbyctl/pki";
  std::string role;
  std::string name;
  int days = 730;
};

int Init(const std::string& dir) {
  base::Result<pki::IssuedFiles> files = pki::InitCa(dir);
  if (!files.ok()) return ReportError(files.status());
  fmt::print("created CA {} and its key {} (mode 0600; keep the key off the standby)\n",
             files->cert, files->key);
  return kExitOk;
}

int Issue(const IssueArgs& args) {
  pki::IssueOptions options;
  options.role = args.role == "controller" ? net::PeerRole::kController : net::PeerRole::kAgent;
  options.name = args.name;
  options.days = args.days;
  base::Result<pki::IssuedFiles> files = pki::Issue(args.dir, options);
  if (!files.ok()) return ReportError(files.status());
  fmt::print("issued {} certificate for {}: {} and {} (mode 0600), valid {} days\n", args.role,
             args.name, files->cert, files->key, args.days);
  return kExitOk;
}

}  // namespace

void AddPkiCommand(CLI::App& app, GlobalOptions& /*options*/, Action* action) {
  CLI::App* pki = app.add_subcommand(
      "pki", "Create the certificate authority and certificates of the controller-agent channel");
  pki->require_subcommand(1);

  CLI::App* init = pki->add_subcommand("init", "Create a CA (ca.crt, ca.key) in DIR");
  auto dir = std::make_shared<std::string>();
  init->add_option("DIR", *dir, "Directory for the CA, created with mode 0700")->required();
  init->callback([action, dir] { *action = [dir] { return Init(*dir); }; });

  CLI::App* issue = pki->add_subcommand(
      "issue", "Issue a key and certificate for a controller or an agent, signed by the CA");
  auto args = std::make_shared<IssueArgs>();
  issue->add_option("--dir", args->dir, "The CA directory (from pki init)")->capture_default_str();
  issue->add_option("--role", args->role, "controller or agent")
      ->required()
      ->check(CLI::IsMember({"controller", "agent"}));
  issue
      ->add_option("--name", args->name,
                   "Certificate name: for an agent, the agent_name the controller expects")
      ->required();
  issue->add_option("--days", args->days, "Validity in days")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  issue->callback([action, args] { *action = [args] { return Issue(*args); }; });
}

}  // namespace sb::cli
