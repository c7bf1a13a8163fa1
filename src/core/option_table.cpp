// Option tables, comma lists and durations shared by the options structs and monitors.
#include "option_table.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "pins/core/check.hpp"

namespace pins::detail {

namespace {

// "a, b, c": the names of the table, for error messages.
std::string option_names(const OptionDoc* table, std::size_t count) {
  std::string s;
  for (std::size_t i = 0; i < count; ++i) s += (s.empty() ? "" : ", ") + std::string(table[i].name);
  return s;
}

}  // namespace

void check_known_options(const OptionMap& o, const OptionDoc* table, std::size_t count,
                         const std::vector<std::string>& prefixes, const std::string& context) {
  for (const auto& e : o.entries()) {
    bool ours = false;
    for (const auto& p : prefixes) ours = ours || e.first.rfind(p, 0) == 0;
    if (!ours) continue;
    bool known = false;
    for (std::size_t i = 0; i < count; ++i) known = known || e.first == table[i].name;
    PINS_CHECK(known, "unknown option ", e.first, context, " (known: ", option_names(table, count), ")");
  }
}

std::string option_help_lines(const std::vector<OptionDoc>& table) {
  std::ostringstream os;
  for (const auto& k : table) {
    std::string left = std::string("  ") + k.name;
    if (left.size() < 30) left.resize(30, ' ');
    os << left << " " << k.help << "\n";
  }
  return os.str();
}

std::string join_commas(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& x : items) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace pins::detail
