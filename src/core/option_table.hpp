#pragma once
// A table of named options with their -help text (private to pins::core): the one place
// where an options struct lists what it reads, so from_options can reject a misspelt name
// and help() prints the same list.

#include <cstddef>
#include <string>
#include <vector>

#include "pins/core/options.hpp"

namespace pins::detail {

struct OptionDoc {
  const char* name;
  const char* help;
};

/// Throws pins::Error "unknown option -x<context> (known: ...)" for any option in `o` that
/// starts with one of `prefixes` and is not in the table.
void check_known_options(const OptionMap& o, const OptionDoc* table, std::size_t count,
                         const std::vector<std::string>& prefixes, const std::string& context = "");

template <std::size_t N>
void check_known_options(const OptionMap& o, const OptionDoc (&table)[N],
                         const std::vector<std::string>& prefixes, const std::string& context = "") {
  check_known_options(o, table, N, prefixes, context);
}

inline void check_known_options(const OptionMap& o, const std::vector<OptionDoc>& table,
                                const std::vector<std::string>& prefixes,
                                const std::string& context = "") {
  check_known_options(o, table.data(), table.size(), prefixes, context);
}

/// The table for -help, one option per line: two spaces, the name padded to 28, the help.
std::string option_help_lines(const std::vector<OptionDoc>& table);

/// "a,b,c".
std::string join_commas(const std::vector<std::string>& items);

/// "a,b,,c" -> {a, b, c}.
std::vector<std::string> split_commas(const std::string& s);

/// "1:02:03" or "2:03" (minutes:seconds under an hour); "-" for a negative or non-finite time.
std::string format_duration(double seconds);

}  // namespace pins::detail
