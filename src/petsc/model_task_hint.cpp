// Which PETSc option a model file belongs to (model_task_hint.hpp).
#include "model_task_hint.hpp"

#include "pins/core/check.hpp"
#include "pins/core/precondition.hpp"
#include "pins/core/smoother.hpp"

namespace pins::petsc {

namespace {

// The task written in the file's manifest, or "" when it cannot be read (the caller's own
// error says why).
std::string task_of(const std::string& path) {
  try {
    return read_model_manifest(path).task;
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

LoadedModel load_model_or_point_elsewhere(const std::string& path, const ModelRequirements& need) {
  try {
    return load_model(path, need);
  } catch (const FileNotFound&) {
    throw;
  } catch (const Error& e) {
    const std::string found = task_of(path);
    const std::string wanted = need.task ? *need.task : "";
    if (found == kSmootherTask && wanted == kPreconditionTask)
      throw Error(std::string(e.what()) + " — a learned smoother runs on multigrid levels: " +
                  kSmootherLevelOptions + " " + path);
    if (found == kPreconditionTask && wanted == kSmootherTask)
      throw Error(std::string(e.what()) +
                  " — a preconditioner network runs as -pc_type surrogate -pc_surrogate_model " +
                  path + " (2-D DMDA grids)");
    throw;
  }
}

}  // namespace pins::petsc
