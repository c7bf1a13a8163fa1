// pins generate's own options, and -help for everything generate reads.

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>

#include "pde/registry.hpp"
#include "pins/core/family.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"
#include "sample_solver.hpp"

namespace pins::petsc {

namespace {
// One sample's array is written by one process in one MPI-IO call (and gathered in one
// VecScatter for -generate_procs_per_sample > 1); this keeps its size, in bytes, well inside
// MPI's int count for a few fields.
constexpr std::int64_t kMaxCells = std::int64_t(1) << 26;

bool parse_seed(const char* text, std::uint64_t* seed) {
  if (!text || !*text || *text == '-' || *text == '+') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v > 0x7fffffffffffffffull) return false;
  *seed = v;
  return true;
}
}  // namespace

PetscErrorCode GenerateOptions::SetFromOptions(MPI_Comm comm, const char* options_prefix) {
  char pde_buf[64], out_buf[PETSC_MAX_PATH_LEN], seed_buf[32];
  PetscInt grid_values[3] = {0, 0, 0}, ngrid = 3, nsamples = PetscInt(samples);
  PetscInt group = procs_per_sample;
  PetscBool grid_set = PETSC_FALSE, force_b = force ? PETSC_TRUE : PETSC_FALSE;
  PetscBool progress_b = progress ? PETSC_TRUE : PETSC_FALSE;
  PetscBool inputs_only_b = inputs_only ? PETSC_TRUE : PETSC_FALSE;
  const std::string families = "Problem family: " + problem_family_names();
  const std::string seed_default = std::to_string(seed);
  PetscFunctionBeginUser;
  // PETSc leaves a string untouched when its option is absent: start from the defaults.
  PetscCall(PetscStrncpy(pde_buf, pde.c_str(), sizeof pde_buf));
  PetscCall(PetscStrncpy(out_buf, output.c_str(), sizeof out_buf));
  PetscCall(PetscStrncpy(seed_buf, seed_default.c_str(), sizeof seed_buf));
  PetscOptionsBegin(comm, options_prefix, "pins generate: sample, solve and write a dataset",
                    "pins");
  PetscCall(PetscOptionsString("-pde", families.c_str(), "pins generate", pde.c_str(), pde_buf,
                               sizeof pde_buf, nullptr));
  PetscCall(PetscOptionsIntArray("-grid", "Cells per direction: n (all directions) or nx,ny[,nz]",
                                 "pins generate", grid_values, &ngrid, &grid_set));
  PetscCall(PetscOptionsInt("-samples", "Number of samples (>= 1)", "pins generate", nsamples,
                            &nsamples, nullptr));
  PetscCall(PetscOptionsString("-seed", "Global seed, 0 <= seed < 2^63", "pins generate",
                               seed_default.c_str(), seed_buf, sizeof seed_buf, nullptr));
  PetscCall(PetscOptionsString("-o", "Output dataset (HDF5), required", "pins generate",
                               output.c_str(), out_buf, sizeof out_buf, nullptr));
  PetscCall(PetscOptionsBool("-force", "Overwrite an existing output file", "pins generate",
                             force_b, &force_b, nullptr));
  PetscCall(PetscOptionsBool("-progress", "Report progress on stderr", "pins generate", progress_b,
                             &progress_b, nullptr));
  PetscCall(PetscOptionsBool("-inputs_only",
                             "Write the sampled inputs only: no solves, no solutions (labelled 0)",
                             "pins generate", inputs_only_b, &inputs_only_b, nullptr));
  PetscCall(PetscOptionsInt("-generate_procs_per_sample",
                            "Processes that solve one sample together (a DMDA distributed over "
                            "them); the process count must be a multiple of it",
                            "pins generate", group, &group, nullptr));
  PetscOptionsEnd();

  PetscCheck(!grid_set || ngrid >= 1, comm, PETSC_ERR_ARG_WRONG,
             "-grid needs a value: n or nx,ny[,nz] (e.g. -grid 64 or -grid 64,32)");
  if (grid_set) PetscCallCXX(grid.assign(grid_values, grid_values + ngrid));
  std::uint64_t parsed_seed = 0;
  PetscCheck(parse_seed(seed_buf, &parsed_seed), comm, PETSC_ERR_ARG_WRONG,
             "-seed must be an integer in [0, 2^63), got '%s'", seed_buf);
  seed = parsed_seed;
  samples = nsamples;
  force = force_b;
  progress = progress_b;
  inputs_only = inputs_only_b;
  procs_per_sample = int(group);
  PetscCallCXX(pde = pde_buf);  // std::string assignments can throw std::bad_alloc
  PetscCallCXX(output = out_buf);
  PetscCallCXX(prefix = options_prefix ? options_prefix : "");
  PetscFunctionReturn(0);
}

namespace {
// -grid as the user typed it, e.g. "24,16".
std::string typed_grid(const std::vector<std::int64_t>& grid) {
  std::string typed;
  for (auto g : grid) typed += (typed.empty() ? "" : ",") + std::to_string(g);
  return typed;
}
}  // namespace

std::vector<std::int64_t> GenerateOptions::grid_for(int dim) const {
  const std::string typed = typed_grid(grid);
  PINS_CHECK(grid.size() == 1 || int(grid.size()) == dim, "-grid ", typed, " has ", grid.size(),
             " directions, but -pde ", pde, " is ", dim, "-D: give n or ", dim, " values (x first)");
  std::vector<std::int64_t> out(static_cast<size_t>(dim));
  for (int d = 0; d < dim; ++d)  // typed x first; stored slowest (z or y) first
    out[size_t(dim - 1 - d)] = grid.size() == 1 ? grid[0] : grid[size_t(d)];
  return out;
}

void GenerateOptions::validate() const {
  find_problem_family(pde);  // throws with the list of known families
  const int dim = find_family(pde).dimension();
  const std::vector<std::int64_t> cells = grid_for(dim);
  const std::string typed = typed_grid(grid);
  std::int64_t total = 1;
  for (auto g : cells) {
    PINS_CHECK(g >= 3, "-grid must be at least 3 cells per direction, got ", typed);
    PINS_CHECK(g <= kMaxCells, "-grid ", typed, " is too large (at most ", kMaxCells, " cells)");
    total *= g;
    PINS_CHECK(total <= kMaxCells, "-grid ", typed, " is too large (at most ", kMaxCells,
               " cells)");
  }
  PINS_CHECK(samples >= 1, "-samples must be at least 1, got ", samples);
  PINS_CHECK(procs_per_sample >= 1,
             "-generate_procs_per_sample must be at least 1 (processes per sample), got ",
             procs_per_sample);
  PINS_CHECK(!output.empty(), "-o <file.h5> is required: the dataset file to write");
}

PetscErrorCode generate_help(MPI_Comm comm, const char* prefix) {
  GenerateOptions options;
  PetscFunctionBeginUser;
  PetscCall(options.SetFromOptions(comm, prefix));
  std::unique_ptr<ProblemFamily> family;
  PetscCallCXX(family = find_problem_family(options.pde).create());
  PetscCall(family->SetFromOptions(comm, prefix));
  // Configuring a solver is what lists the -ksp_* and -pc_* options; -inputs_only reads none.
  if (!options.inputs_only && family->time_dependent()) {
    // The TS is configured on a DM of the set-up family.
    PetscCallCXX({
      family->set_up(options.grid_for(find_family(options.pde).dimension()), options.seed);
      detail::describe_time_stepper(comm, options.prefix, *family);
    });
  } else if (!options.inputs_only) {
    PetscCallCXX(detail::describe_solver(comm, options.prefix, family->nonlinear()));
  }
  PetscFunctionReturn(0);
}

}  // namespace pins::petsc
