// Test support: one value read straight from a sqlite file, apart from the
// store's own code, to check what it wrote.

#ifndef TESTS_SUPPORT_QUERY_H_
#define TESTS_SUPPORT_QUERY_H_

#include <string>

namespace sb::testing {

// The first column of the first row of `sql` on the database at `path`
// (opened read-only), as text; empty when there is none. Fails the test
// when the file or the statement is bad.
std::string QueryText(const std::string& path, const std::string& sql);

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_QUERY_H_
