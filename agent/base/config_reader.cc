#include "agent/base/config_reader.h"

#include <sstream>

#include <algorithm>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "agent/base/file.h"

namespace sb::base {
namespace {

// Levenshtein distance, for "did you mean" on unknown keys.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ConfigError::ToString() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

void ConfigErrors::Add(const toml::source_region& where, std::string message) {
  errors_.push_back({file_, where.begin.line, where.begin.column, std::move(message)});
}

void ConfigErrors::AddForFile(std::string message) {
  errors_.push_back({file_, 0, 0, std::move(message)});
}

void ConfigErrors::AddMachineProblem(const toml::source_region& where, std::string message) {
  machine_.push_back({file_, where.begin.line, where.begin.column, std::move(message)});
}

void ConfigErrors::AddMachineProblemForFile(std::string message) {
  machine_.push_back({file_, 0, 0, std::move(message)});
}

namespace {

std::vector<ConfigError> SortedByPosition(std::vector<ConfigError> sorted) {
  std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return sorted;
}

}  // namespace

std::vector<ConfigError> ConfigErrors::InFileOrder() const { return SortedByPosition(errors_); }

std::vector<ConfigError> ConfigErrors::MachineProblems() const {
  return SortedByPosition(machine_);
}

Status ConfigErrors::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  std::string joined;
  for (const ConfigError& e : InFileOrder()) {
    if (!joined.empty()) joined += '\n';
    joined += e.ToString();
  }
  return Status::Invalid(std::move(joined));
}

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

TableReader::TableReader(const toml::table& table, std::string path, ConfigErrors* errors)
    : table_(&table), path_(std::move(path)), errors_(errors) {}

std::string TableReader::Canonical(std::initializer_list<std::string_view> skip) const {
  toml::table copy = *table_;
  for (std::string_view key : skip) copy.erase(key);
  std::ostringstream out;
  out << toml::toml_formatter(copy, toml::format_flags::none);
  return out.str();
}

std::string TableReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

const toml::node* TableReader::Get(std::string_view key, Need need) {
  known_.emplace(key);
  const toml::node* node = table_->get(key);
  if (node == nullptr && need == Need::kRequired) {
    Error(fmt::format("missing required key \"{}\"", key));
  }
  return node;
}

void TableReader::Error(std::string_view message) {
  std::string where = path_.empty() ? std::string("top level") : fmt::format("[{}]", path_);
  errors_->Add(table_->source(), fmt::format("{}: {}", where, message));
}

void TableReader::ErrorAt(std::string_view key, std::string_view message) {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    Error(fmt::format("{}: {}", key, message));
    return;
  }
  errors_->Add(node->source(), fmt::format("{}: {}", PathOf(key), message));
}

void TableReader::MachineProblemAt(std::string_view key, std::string_view message) {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    std::string where = path_.empty() ? std::string("top level") : fmt::format("[{}]", path_);
    errors_->AddMachineProblem(table_->source(), fmt::format("{}: {}: {}", where, key, message));
    return;
  }
  errors_->AddMachineProblem(node->source(), fmt::format("{}: {}", PathOf(key), message));
}

void TableReader::TypeError(std::string_view key, const toml::node& node,
                            std::string_view expected) {
  ErrorAt(key, fmt::format("expected {}, got {}", expected, TomlTypeName(node)));
}

std::optional<std::string> TableReader::String(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    TypeError(key, *node, "a string");
    return std::nullopt;
  }
  std::string value = node->as_string()->get();
  if (value.empty() && need == Need::kRequired) {
    ErrorAt(key, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> TableReader::Integer(std::string_view key, int64_t min, int64_t max,
                                            Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_integer()) {
    TypeError(key, *node, "an integer");
    return std::nullopt;
  }
  int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    ErrorAt(key, fmt::format("{} is out of range; expected {} to {}", value, min, max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> TableReader::Bool(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_boolean()) {
    TypeError(key, *node, "true or false");
    return std::nullopt;
  }
  return node->as_boolean()->get();
}

std::optional<Duration> TableReader::DurationValue(std::string_view key, Duration min, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    TypeError(key, *node, "a duration string like \"45m\"");
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(node->as_string()->get());
  if (!d.ok()) {
    ErrorAt(key, d.status().message());
    return std::nullopt;
  }
  if (*d < min) {
    ErrorAt(key, fmt::format("{} is too short; the minimum is {}", FormatDuration(*d),
                             FormatDuration(min)));
    return std::nullopt;
  }
  return *d;
}

std::optional<uint64_t> TableReader::Size(std::string_view key, uint64_t min, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  Result<uint64_t> size = Status::Invalid("");
  if (node->is_string()) {
    size = ParseSize(node->as_string()->get());
  } else if (node->is_integer() && node->as_integer()->get() >= 0) {
    size = static_cast<uint64_t>(node->as_integer()->get());
  } else if (node->is_integer()) {
    size = Status::Invalid(fmt::format("size {} is negative", node->as_integer()->get()));
  } else {
    TypeError(key, *node, "a size like \"2GiB\"");
    return std::nullopt;
  }
  if (!size.ok()) {
    ErrorAt(key, size.status().message());
    return std::nullopt;
  }
  if (*size < min) {
    ErrorAt(key,
            fmt::format("{} is too small; the minimum is {}", FormatSize(*size), FormatSize(min)));
    return std::nullopt;
  }
  return *size;
}

std::optional<std::vector<std::string>> TableReader::StringArray(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    TypeError(key, *node, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (!element.is_string()) {
      errors_->Add(element.source(), fmt::format("{}[{}]: expected a string, got {}", PathOf(key),
                                                 i, TomlTypeName(element)));
      return std::nullopt;
    }
    values.push_back(element.as_string()->get());
  }
  if (values.empty() && need == Need::kRequired) {
    ErrorAt(key, "must not be empty");
    return std::nullopt;
  }
  return values;
}

std::optional<TableReader> TableReader::Table(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (node == nullptr) return std::nullopt;
  if (!node->is_table()) {
    TypeError(key, *node, fmt::format("a table ([{}])", PathOf(key)));
    return std::nullopt;
  }
  return TableReader(*node->as_table(), PathOf(key), errors_);
}

std::vector<TableReader> TableReader::TableArray(std::string_view key, Need need) {
  std::vector<TableReader> tables;
  const toml::node* node = Get(key, need);
  if (node == nullptr) return tables;
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    TypeError(key, *node, fmt::format("an array of tables ([[{}]])", PathOf(key)));
    return tables;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    tables.emplace_back(*array->get(i)->as_table(), fmt::format("{}[{}]", PathOf(key), i), errors_);
  }
  return tables;
}

void TableReader::Forbid(std::string_view key, std::string_view message) {
  known_.emplace(key);
  if (table_->contains(key)) ErrorAt(key, message);
}

void TableReader::RejectUnknownKeys() {
  for (auto&& [key, node] : *table_) {
    if (known_.count(key.str()) > 0) continue;
    std::string message = fmt::format("unknown key \"{}\"", key.str());
    std::string_view best;
    size_t best_distance = 3;  // suggest only close matches
    for (const std::string& candidate : known_) {
      size_t d = EditDistance(key.str(), candidate);
      if (d < best_distance) {
        best_distance = d;
        best = candidate;
      }
    }
    if (!best.empty()) message += fmt::format(" (did you mean \"{}\"?)", best);
    std::string where = path_.empty() ? std::string() : fmt::format("[{}]: ", path_);
    errors_->Add(key.source(), where + message);
  }
}

std::string ResolveConfigPath(const std::string& config_path, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  size_t slash = config_path.rfind('/');
  return slash == std::string::npos ? path : config_path.substr(0, slash + 1) + path;
}

ConfigFile::ConfigFile(std::string path)
    : table_(std::make_unique<toml::table>()),
      errors_(std::make_unique<ConfigErrors>(std::move(path))) {}

ConfigFile ConfigFile::Load(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    ConfigFile file(path);
    // ReadFile's message starts with the path, which the error line already has.
    std::string why = text.status().message();
    if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);
    file.errors_->AddForFile(fmt::format("cannot read config: {}", why));
    return file;
  }
  return Parse(*text, path);
}

ConfigFile ConfigFile::Parse(std::string_view text, const std::string& path) {
  ConfigFile file(path);
  try {
    *file.table_ = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::string message = fmt::format("syntax error: {}", e.description());
    // toml++ reports an unterminated string as the newline it runs into.
    if (message.find("unescaped control characters") != std::string::npos) {
      message += " (is a closing quote missing?)";
    }
    file.errors_->Add(e.source(), std::move(message));
  }
  return file;
}

}  // namespace sb::base
