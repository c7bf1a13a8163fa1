#pragma once
// Files `pins evaluate` writes: text files (atomically), .npy arrays for the plotting
// script, and the call of that script.

#include <torch/types.h>

#include <string>

namespace pins::cli {

/// Writes `text` to `path` through a temporary file renamed into place.
void write_text_file(const std::string& path, const std::string& text);

/// Writes a float64 tensor as a NumPy .npy file (format 1.0, little-endian, C order).
void write_npy(const std::string& path, const torch::Tensor& values);

/// Runs python/scripts/<script> (the source tree's, else the installed copy) on `folder`
/// (which holds what it plots) with Debian's python3 (PINS_PYTHON overrides it, and
/// PINS_PLOT_SCRIPT the path of plot_evaluation.py). Returns an empty string on success,
/// else a one-line reason (python or matplotlib missing, script failed).
std::string run_plot_script(const std::string& folder,
                            const std::string& script_name = "plot_evaluation.py");

}  // namespace pins::cli
