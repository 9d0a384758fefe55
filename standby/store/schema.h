// The state store's schema as an ordered list of forward migrations.
//
// Migration i (0-based) takes a database from user_version i to i + 1. A
// released migration is never edited: a change to the schema is a new entry
// at the end. Constant data; thread-safe.

#ifndef STANDBY_STORE_SCHEMA_H_
#define STANDBY_STORE_SCHEMA_H_

#include <span>
#include <string_view>

namespace sb::store {

struct Migration {
  std::string_view description;
  std::string_view sql;  // one or more statements, run in one transaction
};

// All migrations, oldest first; the current version is their count.
std::span<const Migration> Migrations();

inline int CurrentSchemaVersion() { return static_cast<int>(Migrations().size()); }

}  // namespace sb::store

#endif  // STANDBY_STORE_SCHEMA_H_
