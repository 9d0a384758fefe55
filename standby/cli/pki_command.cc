// `standbyctl pki init|issue|renew`: the certificates of the
// controller-agent channel, without typing an openssl command.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "standby/cli/command.h"
#include "standby/pki/pki.h"

namespace sb::cli {
namespace {

struct PkiArgs {
  std::string dir = "/etc/standbyctl/pki";
  std::string positional_dir;  // `pki init DIR`, as before --dir
  std::string role;
  std::string name;
  int days = 730;
  bool json = false;
};

nlohmann::json FilesJson(const pki::IssuedFiles& files, const PkiArgs& args) {
  return {{"cert", files.cert}, {"key", files.key}, {"days", args.days}};
}

int Init(const PkiArgs& args) {
  const std::string& dir = args.positional_dir.empty() ? args.dir : args.positional_dir;
  base::Result<pki::IssuedFiles> files = pki::InitCa(dir);
  if (!files.ok()) return ReportError(files.status());
  if (args.json) {
    fmt::print("{}\n", FilesJson(*files, args).dump(2));
  } else {
    fmt::print("created CA {} and its key {} (mode 0600; keep the key off the standby)\n",
               files->cert, files->key);
  }
  return kExitOk;
}

int Issue(const PkiArgs& args) {
  pki::IssueOptions options;
  options.role = args.role == "controller" ? net::PeerRole::kController : net::PeerRole::kAgent;
  options.name = args.name;
  options.days = args.days;
  base::Result<pki::IssuedFiles> files = pki::Issue(args.dir, options);
  if (!files.ok()) return ReportError(files.status());
  if (args.json) {
    nlohmann::json out = FilesJson(*files, args);
    out["role"] = args.role;
    out["name"] = args.name;
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("issued {} certificate for {}: {} and {} (mode 0600), valid {} days\n", args.role,
               args.name, files->cert, files->key, args.days);
  }
  return kExitOk;
}

int Renew(const PkiArgs& args) {
  base::Result<pki::RenewedFiles> renewed = pki::Renew(args.dir, args.name, args.days);
  if (!renewed.ok()) return ReportError(renewed.status());
  const bool agent = renewed->role == net::PeerRole::kAgent;
  if (args.json) {
    nlohmann::json out = FilesJson(renewed->files, args);
    out["role"] = agent ? "agent" : "controller";
    out["name"] = args.name;
    out["old_cert"] = renewed->old.cert;
    out["old_key"] = renewed->old.key;
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print(
      "renewed the {} certificate of {}: {} and {} (mode 0600), valid {} days; the old "
      "pair is kept as {} and {}\n",
      agent ? "agent" : "controller", args.name, renewed->files.cert, renewed->files.key, args.days,
      renewed->old.cert, renewed->old.key);
  fmt::print("{}\n", agent ? "next: copy both new files to the host, replacing the old ones, and "
                             "restart its agent (systemctl restart standby-agent)"
                           : "the controller's next command uses them");
  return kExitOk;
}

}  // namespace

void AddPkiCommand(CLI::App& app, GlobalOptions& /*options*/, Action* action) {
  CLI::App* pki = app.add_subcommand(
      "pki", "Create the certificate authority and certificates of the controller-agent channel");
  pki->require_subcommand(1);

  auto args = std::make_shared<PkiArgs>();
  CLI::App* init = pki->add_subcommand(
      "init", "Create a CA (ca.crt, ca.key) in --dir; refused (exit 2) when one is there");
  init->add_option("--dir", args->dir, "Directory for the CA, created with mode 0700")
      ->capture_default_str();
  init->add_option("DIR", args->positional_dir, "The same as --dir");
  init->add_flag("--json", args->json, "Print the files made as JSON");
  init->callback([action, args] { *action = [args] { return Init(*args); }; });

  CLI::App* issue = pki->add_subcommand(
      "issue", "Issue a key and certificate for a controller or an agent, signed by the CA");
  issue->add_option("--dir", args->dir, "The CA directory (from pki init)")->capture_default_str();
  issue->add_flag("--json", args->json, "Print the files made as JSON");
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

  CLI::App* renew = pki->add_subcommand(
      "renew",
      "Renew a certificate before it expires: a new key and certificate with the same name and "
      "role, the old pair kept as NAME.crt.old and NAME.key.old");
  renew->add_option("--dir", args->dir, "The CA directory (from pki init)")->capture_default_str();
  renew->add_option("--name", args->name, "The certificate's name (NAME.crt in --dir)")->required();
  renew->add_option("--days", args->days, "Validity in days")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  renew->add_flag("--json", args->json, "Print the files as JSON");
  renew->callback([action, args] { *action = [args] { return Renew(*args); }; });
}

}  // namespace sb::cli
