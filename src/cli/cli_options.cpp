#include "cli_options.hpp"

#include <petscsys.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"

namespace pins::cli {

OptionMap options_with_prefixes(const std::vector<std::string>& prefixes) {
  char* all = nullptr;
  PINS_PETSC_CALL(PetscOptionsGetAll(nullptr, &all));
  std::vector<std::string> words;
  std::istringstream in(all ? all : "");
  for (std::string w; in >> w;) words.push_back(w);
  PetscFree(all);
  const OptionMap every = OptionMap::from_args(words);
  OptionMap picked;
  for (const auto& [name, value] : every.entries())
    for (const auto& p : prefixes)
      if (name.rfind(p, 0) == 0) picked.set(name, value);
  return picked;
}

void check_output_path(const std::string& path, const char* option, bool force) {
  PINS_CHECK(!path.empty(), option, " <file> is required");
  std::error_code ec;
  PINS_CHECK(force || !std::filesystem::exists(path, ec), option, " ", path,
             " already exists; pass -force to overwrite it");
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  PINS_CHECK(::access(dir.c_str(), W_OK) == 0, option, " ", path, ": folder '", dir,
             "' does not exist or is not writable");
}

}  // namespace pins::cli
