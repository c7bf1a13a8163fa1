#pragma once
// The -refine part of `pins evaluate`: the option's value, the report's table and the data
// behind the refine.png figure.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pins/petsc/evaluate.hpp"

namespace pins::cli {

/// `v` printed with the printf format `format` (report tables).
std::string format_number(double v, const char* format = "%.4g");

/// The cycle counts of `-refine 0,1,5,20`: integers ≥ 0 separated by commas. Throws
/// pins::Error with a one-line message quoting the bad entry otherwise.
std::vector<int> parse_refine_counts(const std::string& value);

/// report.md's section on the refinement: a table (k, error, residual, time, PETSc's time to
/// the same error, ratio) and what the times include.
std::string refine_markdown(const petsc::Evaluation& e);

/// What plot_evaluation.py draws refine.png from (plot_data/refine.json): the surrogate + k
/// points (time per sample, mean error over the re-solved samples and over all) and PETSc's
/// error against time on each re-solved sample.
nlohmann::json refine_plot_data(const petsc::Evaluation& e);

}  // namespace pins::cli
