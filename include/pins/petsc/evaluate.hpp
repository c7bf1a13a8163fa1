#pragma once
/// \file
/// Measuring a solution model against PETSc on a dataset: what `pins evaluate` reports and
/// `pins.evaluate` returns. Relative L2 errors, the relative residual ‖f − A û‖/‖f‖ of the
/// predictions by the problem's own operator, and time per sample of the surrogate (one at a
/// time and batched) against PETSc re-solving samples with the dataset's own solver settings.

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/trainer.hpp"

namespace pins {
class Surrogate;
}

namespace pins::petsc {

/// What a solution model must be to run on `info`'s samples (family, task, channels; the
/// training grid too unless the architecture's traits say it is grid-independent: FNO, MLP).
ModelRequirements evaluation_requirements(const std::string& architecture, const DatasetInfo& info);

/// The measurements; `report` holds them as report.json's fields.
struct Evaluation {
  nlohmann::json report;
  torch::Tensor prediction;   ///< [N, ny, nx] float64
  torch::Tensor relative_l2;  ///< [N]
  TrainingData data;          ///< the dataset's tensors (κ, f, u)
  Summary error, residual, petsc_residual;
  double seconds_single = 0, seconds_batched = 0, seconds_petsc = 0;
  int petsc_samples = 0;
};

/// Evaluates `model` (with `manifest`, already checked) on dataset `d`, re-solving
/// min(N, solve_samples) samples with PETSc under the options prefix `solver_prefix`.
/// The paths only label the report and error messages. Throws pins::Error (an inputs-only
/// dataset, which has no solutions to compare with, is refused by pins::require_labelled).
Evaluation evaluate_model(Surrogate& model, const ModelManifest& manifest,
                          const std::string& model_path, const Dataset& d,
                          const std::string& data_path, int solve_samples,
                          const std::string& solver_prefix);

}  // namespace pins::petsc
