#pragma once
// Helpers shared by `pins train` and `pins evaluate`: the options database as a
// pins::OptionMap, and output-path checks.

#include <string>

#include "pins/core/options.hpp"

namespace pins::cli {

/// Every option in PETSc's options database (as given on the command line, from
/// PETSC_OPTIONS or an options file) whose name starts with one of `prefixes` ("-train_").
OptionMap options_with_prefixes(const std::vector<std::string>& prefixes);

/// Throws pins::Error unless `path` may be written: `option` names the option in the
/// message. An existing file is an error unless `force`; its folder must exist and be
/// writable.
void check_output_path(const std::string& path, const char* option, bool force);

}  // namespace pins::cli
