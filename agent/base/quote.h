// Strings that came from a peer (a command name, a lease holder, a path in
// a message), made fit for a log line or an error message: control
// characters and bytes that are not UTF-8 escaped as \xNN, so a newline in a
// name cannot forge a log line, and the whole cut at a bound, its full
// length said, so a 1 MiB name cannot fill a log or overflow a reply. Pure;
// thread-safe.

#ifndef AGENT_BASE_QUOTE_H_
#define AGENT_BASE_QUOTE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace sb::base {

// `s` escaped and cut after `max_bytes` of it ("...(1048576 bytes)").
std::string Printable(std::string_view s, size_t max_bytes = 4096);

// The same in double quotes, with `"` and `\` escaped too; a shorter bound,
// for names.
std::string Quote(std::string_view s, size_t max_bytes = 256);

}  // namespace sb::base

#endif  // AGENT_BASE_QUOTE_H_
