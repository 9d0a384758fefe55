#include "agent/base/config_reader.h"

#include <catch2/catch.hpp>

namespace sb::base {
namespace {

TEST_CASE("config reader: getters check types and remember known keys", "[config_reader]") {
  ConfigFile file = ConfigFile::Parse(
      "name = \"x\"\ncount = 3\nflag = true\nsize = \"1KiB\"\nlist = [\"a\", \"b\"]\n"
      "[sub]\nkey = 1\n",
      "t.toml");
  REQUIRE(file.errors().empty());
  TableReader root = file.root();
  CHECK(root.String("name") == "x");
  CHECK(root.Integer("count", 0, 10) == 3);
  CHECK(root.Bool("flag") == true);
  CHECK(root.Size("size", 0) == 1024);
  CHECK(root.StringArray("list") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(root.String("absent").has_value());
  std::optional<TableReader> sub = root.Table("sub");
  REQUIRE(sub.has_value());
  CHECK(sub->Integer("key", 0, 1) == 1);
  sub->RejectUnknownKeys();
  root.RejectUnknownKeys();
  CHECK(file.errors().empty());
}

TEST_CASE("config reader: a required key that is absent is reported at its table",
          "[config_reader]") {
  ConfigFile file = ConfigFile::Parse("a = 1\n\n[t]\nb = 2\n", "t.toml");
  TableReader root = file.root();
  std::optional<TableReader> t = root.Table("t");
  REQUIRE(t.has_value());
  CHECK_FALSE(t->String("name", Need::kRequired).has_value());
  REQUIRE(file.errors().list().size() == 1);
  CHECK(file.errors().list()[0].ToString() == "t.toml:3:1: [t]: missing required key \"name\"");
}

TEST_CASE("config reader: unknown keys far from any known key get no suggestion",
          "[config_reader]") {
  ConfigFile file = ConfigFile::Parse("colour = 1\nzzzzzz = 2\n", "t.toml");
  TableReader root = file.root();
  (void)root.Integer("color", 0, 5);
  root.RejectUnknownKeys();
  REQUIRE(file.errors().list().size() == 2);
  CHECK(file.errors().list()[0].ToString() ==
        "t.toml:1:1: unknown key \"colour\" (did you mean \"color\"?)");
  CHECK(file.errors().list()[1].ToString() == "t.toml:2:1: unknown key \"zzzzzz\"");
}

}  // namespace
}  // namespace sb::base
