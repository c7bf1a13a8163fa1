#include "pins/core/options.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "pins/core/check.hpp"

namespace pins {

namespace {

// "-1", "-.5", "-2e3" are values, not option names (the same rule PETSc uses).
bool is_name(const std::string& word) {
  if (word.size() < 2 || word[0] != '-') return false;
  const char c = word[1];
  return !(std::isdigit(static_cast<unsigned char>(c)) || c == '.');
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

OptionMap::OptionMap(std::initializer_list<Entries::value_type> entries) : entries_(entries) {}

OptionMap OptionMap::from_args(const std::vector<std::string>& args) {
  OptionMap map;
  for (std::size_t i = 0; i < args.size(); ++i) {
    PINS_CHECK(is_name(args[i]), "expected an option name (starting with '-'), got '", args[i],
               "'");
    if (i + 1 < args.size() && !is_name(args[i + 1])) {
      map.set(args[i], args[i + 1]);
      ++i;
    } else {
      map.set(args[i], "");
    }
  }
  return map;
}

void OptionMap::set(const std::string& name, std::string value) {
  entries_[name] = std::move(value);
}

bool OptionMap::has(const std::string& name) const {
  return entries_.count(name) != 0;
}

const std::string* OptionMap::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

int OptionMap::get_int(const std::string& name, int fallback) const {
  const std::string* v = find(name);
  if (!v) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  const bool parsed = !v->empty() && !std::isspace(static_cast<unsigned char>((*v)[0])) &&
                      *end == '\0' && errno == 0;
  PINS_CHECK(parsed, name, " must be an integer, got '", *v, "'");
  PINS_CHECK(x >= INT_MIN && x <= INT_MAX, name, " is out of range for an integer, got '", *v, "'");
  return static_cast<int>(x);
}

double OptionMap::get_double(const std::string& name, double fallback) const {
  const std::string* v = find(name);
  if (!v) return fallback;
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  const bool parsed = !v->empty() && !std::isspace(static_cast<unsigned char>((*v)[0])) &&
                      *end == '\0' && errno == 0 && std::isfinite(x);
  PINS_CHECK(parsed, name, " must be a finite number, got '", *v, "'");
  return x;
}

std::string OptionMap::get_string(const std::string& name, const std::string& fallback) const {
  const std::string* v = find(name);
  return v ? *v : fallback;
}

bool OptionMap::get_bool(const std::string& name, bool fallback) const {
  const std::string* v = find(name);
  if (!v) return fallback;
  const std::string s = lower(*v);
  if (s.empty() || s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  throw Error(detail::concat(name, " must be true or false, got '", *v, "'"));
}

}  // namespace pins
