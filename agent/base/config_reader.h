// Reading TOML configuration files with errors a user can act on.
//
// A ConfigFile parses one file with toml++ and collects every problem found in
// it as "FILE:LINE:COL: message", so that `config check` can print them all at
// once. A TableReader walks one table of it: each getter checks the value's
// type and range and remembers the key as known; RejectUnknownKeys() then
// reports every key nobody asked for, because a typo must not silently switch
// a setting off. Both the controller's and the agent's configs are read this
// way. Not thread-safe; one reader per parse.

#ifndef AGENT_BASE_CONFIG_READER_H_
#define AGENT_BASE_CONFIG_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <initializer_list>

#include <toml++/toml.h>

#include "agent/base/status.h"
#include "agent/base/units.h"

namespace sb::base {

struct ConfigError {
  std::string file;
  uint32_t line = 0;  // 1-based; 0 when the problem is the file as a whole
  uint32_t column = 0;
  std::string message;

  // "FILE:LINE:COL: message", or "FILE: message" without a position.
  std::string ToString() const;
};

// The errors found in one file, in the order they were found.
class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file) : file_(std::move(file)) {}

  void Add(const toml::source_region& where, std::string message);
  void AddForFile(std::string message);
  // A problem of this machine rather than of the text (a file, a program or
  // a variable the config names is missing here): `config check` prints it
  // as a warning, and as an error with --strict. Not part of ToStatus().
  void AddMachineProblem(const toml::source_region& where, std::string message);
  void AddMachineProblemForFile(std::string message);

  bool empty() const { return errors_.empty(); }
  const std::vector<ConfigError>& list() const { return errors_; }
  // The errors sorted by line and column, as `config check` prints them.
  std::vector<ConfigError> InFileOrder() const;

  // All errors in file order joined by newlines, as one kInvalidArgument Status.
  Status ToStatus() const;

  // The machine's problems, in file order.
  std::vector<ConfigError> MachineProblems() const;

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> machine_;
};

enum class Need { kOptional, kRequired };

class TableReader {
 public:
  // `path` is the dotted name of the table ("" for the root, "standby[0]").
  TableReader(const toml::table& table, std::string path, ConfigErrors* errors);

  // Each getter returns nullopt when the key is absent (and, if required,
  // records "missing required key" at the table) or has a bad value (and
  // records why, at the value).
  std::optional<std::string> String(std::string_view key, Need need = Need::kOptional);
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max,
                                 Need need = Need::kOptional);
  std::optional<bool> Bool(std::string_view key, Need need = Need::kOptional);
  std::optional<Duration> DurationValue(std::string_view key, Duration min,
                                        Need need = Need::kOptional);
  std::optional<uint64_t> Size(std::string_view key, uint64_t min, Need need = Need::kOptional);
  std::optional<std::vector<std::string>> StringArray(std::string_view key,
                                                      Need need = Need::kOptional);
  std::optional<TableReader> Table(std::string_view key, Need need = Need::kOptional);
  // An array of tables ([[key]]); empty when absent or wrong.
  std::vector<TableReader> TableArray(std::string_view key, Need need = Need::kOptional);

  // Marks `key` as known and returns its node, or nullptr when absent; for
  // values whose type decides their meaning.
  const toml::node* Raw(std::string_view key) { return Get(key, Need::kOptional); }

  // Marks `key` as known and, when present, records `message` at it. For keys
  // that are refused on purpose, such as a password written in the file.
  void Forbid(std::string_view key, std::string_view message);

  // Records `message` at the value of `key` (or at the table when absent).
  void ErrorAt(std::string_view key, std::string_view message);
  // The same as a machine problem (ConfigErrors::AddMachineProblem).
  void MachineProblemAt(std::string_view key, std::string_view message);
  // Records `message` at this table.
  void Error(std::string_view message);

  // Records an error for every key not asked for by a getter above, with a
  // suggestion when a known key is close.
  void RejectUnknownKeys();

  bool Has(std::string_view key) const { return table_->contains(key); }
  // The table as TOML in one canonical form (keys sorted, no comments or
  // layout), without the keys in `skip`: what a digest of its meaning is
  // taken over.
  std::string Canonical(std::initializer_list<std::string_view> skip = {}) const;
  const std::string& path() const { return path_; }
  // "path.key", or "key" at the root.
  std::string PathOf(std::string_view key) const;
  ConfigErrors* errors() const { return errors_; }

 private:
  // Marks the key known and returns its node, or nullptr when absent (after
  // recording the missing-key error when required).
  const toml::node* Get(std::string_view key, Need need);
  void TypeError(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table* table_;
  std::string path_;
  ConfigErrors* errors_;
  std::set<std::string, std::less<>> known_;
};

// One parsed configuration file. The table stays valid as long as this lives.
class ConfigFile {
 public:
  // Reads and parses `path`. Unreadable files and TOML syntax errors are
  // recorded in errors(); root() is then an empty table.
  static ConfigFile Load(const std::string& path);
  // Parses `text` as if read from `path` (for tests and for stdin).
  static ConfigFile Parse(std::string_view text, const std::string& path);

  TableReader root() { return TableReader(*table_, "", errors_.get()); }
  ConfigErrors& errors() { return *errors_; }

 private:
  ConfigFile(std::string path);
  std::unique_ptr<toml::table> table_;
  std::unique_ptr<ConfigErrors> errors_;
};

// The TOML name of a node's type: "string", "integer", "table", ...
std::string_view TomlTypeName(const toml::node& node);

// A relative `path` written in the config at `config_path` is taken relative
// to that file's directory; an absolute one is returned as it is.
std::string ResolveConfigPath(const std::string& config_path, const std::string& path);

// Reads a whole config of type T (which has a `path` member) from `file`
// with `read(TableReader root, T* out)`; returns it, or every error found.
template <typename T, typename ReadFn>
Result<T> ReadWholeConfig(ConfigFile& file, const std::string& path, ReadFn read) {
  T value;
  value.path = path;
  if (file.errors().empty()) read(file.root(), &value);
  if (!file.errors().empty()) return file.errors().ToStatus();
  return value;
}

}  // namespace sb::base

#endif  // AGENT_BASE_CONFIG_READER_H_
