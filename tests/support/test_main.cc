// The Catch2 main for every test binary.
#define CATCH_CONFIG_RUNNER
#include <csignal>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // as in the programs: a closed peer is an error value
  return Catch::Session().run(argc, argv);
}
