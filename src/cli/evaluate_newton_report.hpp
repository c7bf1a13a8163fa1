#pragma once
// The nonlinear part of `pins evaluate`'s report.md: Newton from the surrogate's guess
// against Newton from zero.

#include <string>

#include "pins/core/dataset.hpp"
#include "pins/petsc/evaluate.hpp"

namespace pins::cli {

/// report.md's section: the means, their ratios, a per-sample table and what the times
/// include.
std::string newton_markdown(const petsc::NewtonComparison& n, const DatasetInfo& info);

}  // namespace pins::cli
