#pragma once
/// \file
/// A small string → string option map with typed getters. pins::core has no PETSc, but pins
/// is configured through PETSc's options database (`-surrogate_type fno -fno_modes 12`), so
/// core code reads its settings from a pins::OptionMap that the PETSc layer (or a test, or a
/// program without PETSc) fills. Names are written as on the command line, leading dash
/// included.
///
/// Example:
/// \code
///   pins::OptionMap o = pins::OptionMap::from_args({"-fno_modes", "8", "-fno_width", "16"});
///   int modes = o.get_int("-fno_modes", 12);  // 8
///   o.get_int("-fno_layers", 4);              // 4: not given, the default
/// \endcode

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pins {

/// Option name → value text, as given. Getters parse on demand and throw pins::Error with a
/// one-line message naming the option when a value does not parse.
class OptionMap {
 public:
  using Entries = std::map<std::string, std::string>;

  OptionMap() = default;
  /// Builds a map from {name, value} pairs, e.g. `OptionMap{{"-fno_modes", "8"}}`.
  OptionMap(std::initializer_list<Entries::value_type> entries);

  /// Parses command-line words: each word that starts with '-' (and is not a negative
  /// number) is a name; the next word is its value unless it is itself a name, in which case
  /// the value is empty (a flag, read as true by get_bool). Throws on a stray value.
  static OptionMap from_args(const std::vector<std::string>& args);

  /// Sets (or replaces) an option.
  void set(const std::string& name, std::string value);
  /// Whether the option was given.
  bool has(const std::string& name) const;
  /// The value text of an option, or nullptr when it was not given.
  const std::string* find(const std::string& name) const;

  /// The option as an int, or `fallback` when absent. "-x must be an integer, got 'abc'".
  int get_int(const std::string& name, int fallback) const;
  /// The option as a finite double, or `fallback` when absent.
  double get_double(const std::string& name, double fallback) const;
  /// The option's text, or `fallback` when absent.
  std::string get_string(const std::string& name, const std::string& fallback) const;
  /// The option as a bool (true/false, yes/no, on/off, 1/0, case-insensitive; an empty
  /// value, i.e. a bare flag, is true), or `fallback` when absent.
  bool get_bool(const std::string& name, bool fallback) const;

  /// All entries, sorted by name.
  const Entries& entries() const { return entries_; }

 private:
  Entries entries_;
};

}  // namespace pins
