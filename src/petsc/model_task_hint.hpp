#pragma once
// Which PETSc option a model file belongs to. pins' two PETSc-facing model tasks are easy to
// swap by mistake — a `-task precondition` network (the surrogate PC, 2-D DMDA grids) and a
// `-task smoother` network (the learned smoother on multigrid levels, any AIJ matrix) — so a
// model refused for its task gets the options it was meant for in the same message.
#include <string>

#include "pins/core/model_file.hpp"

namespace pins::petsc {

/// load_model(path, need); if that fails and the file holds a model of the other PETSc-facing
/// task, the error (a pins::Error) names the options that take it.
LoadedModel load_model_or_point_elsewhere(const std::string& path, const ModelRequirements& need);

// The options that put a learned smoother model on PETSc's multigrid levels (its file follows),
// spelled once for both hints below; a macro so that the literals concatenate.
#define PINS_SMOOTHER_LEVEL_OPTIONS \
  "-pc_type gamg -mg_levels_pc_type surrogate_smoother -mg_levels_pc_surrogate_smoother_model"

/// PINS_SMOOTHER_LEVEL_OPTIONS as a string (a model's path is to follow, after a space).
inline constexpr const char* kSmootherLevelOptions = PINS_SMOOTHER_LEVEL_OPTIONS;

/// The options that serve operators the surrogate PC does not (3-D, several fields, DMPlex,
/// no DM): one sentence for refusals.
inline constexpr const char* kAnyOperatorHint =
    "for any AIJ operator use pins' learned smoother inside PETSc's "
    "multigrid: " PINS_SMOOTHER_LEVEL_OPTIONS " <model from pins train -task smoother>";

}  // namespace pins::petsc
