#include "cli_options.hpp"

#include <petscsys.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"

namespace pins::cli {

OptionMap options_with_prefixes(const std::vector<std::string>& prefixes) {
  // PetscOptionsGetAll joins names and values with spaces, so it cannot be split back when
  // a value has a space in it ("-train_log 'runs/my run/log.csv'"). Its words serve only to
  // find the names: every word that is an option name with a wanted prefix is looked up in
  // the options database, which has the value as given. A word of a value that merely looks
  // like a name ('-train_x' in "a -train_x b") is no option, is not found, and is dropped.
  char* all = nullptr;
  PINS_PETSC_CALL(PetscOptionsGetAll(nullptr, &all));
  std::istringstream words(all ? all : "");
  PINS_PETSC_CALL(PetscFree(all));
  OptionMap picked;
  for (std::string w; words >> w;) {
    bool wanted = false;
    for (const auto& p : prefixes) wanted = wanted || w.rfind(p, 0) == 0;
    PetscBool is_name = PETSC_FALSE;
    if (wanted) PINS_PETSC_CALL(PetscOptionsValidKey(w.c_str(), &is_name));
    if (!is_name) continue;
    const char* value = nullptr;
    PetscBool set = PETSC_FALSE;
    PINS_PETSC_CALL(PetscOptionsFindPair(nullptr, nullptr, w.c_str(), &value, &set));
    if (set) picked.set(w, value ? value : "");  // no value: a flag
  }
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
