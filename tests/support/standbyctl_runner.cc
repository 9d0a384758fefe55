#include "tests/support/standbyctl_runner.h"

#include <stdexcept>

#include <catch2/catch.hpp>

namespace sb::testing {

void RunOrFail(const std::vector<std::string>& argv) {
  base::ProcessSpec spec;
  spec.argv = argv;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  INFO(argv[0] << ": " << (r.ok() ? r->err : r.status().message()));
  REQUIRE(r.ok());
  REQUIRE(r->exit_code == 0);
}

base::ProcessResult RunStandbyctl(const std::vector<std::string>& args,
                                  const std::vector<std::pair<std::string, std::string>>& env,
                                  std::chrono::seconds timeout) {
  base::ProcessSpec spec;
  spec.argv.push_back(STANDBYCTL_BIN);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  bool config_given = false;
  for (const auto& [key, value] : env) config_given = config_given || key == "STANDBYCTL_CONFIG";
  if (!config_given) spec.unset_env.push_back("STANDBYCTL_CONFIG");
  spec.timeout = timeout;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(*r);
}

}  // namespace sb::testing
