// pins generate: the world is split into groups of -generate_procs_per_sample k processes;
// sample i is drawn and solved by group i mod G (G = P / k groups), on PETSC_COMM_SELF
// objects when k = 1 and on the group's communicator otherwise (a time-dependent family's
// sample is a whole trajectory). Each group's first process writes its samples into the
// shared file with parallel HDF5; nothing is sent to rank 0. After every round of G samples
// the processes agree on failures, so a failing sample stops everybody at once with the same
// message, before the round's collective write. With -inputs_only the same rounds draw the
// samples and nothing creates a solver.

#include <petscksp.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#ifdef PINS_HAVE_OPENMP
#include <omp.h>
#endif

#include "collective.hpp"
#include "pde/registry.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/dataset_parallel.hpp"
#include "pins/core/family.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/generate.hpp"
#include "progress.hpp"
#include "sample_solver.hpp"

namespace pins::petsc {

namespace {

using detail::Failure;

std::string petsc_version() {
  PetscInt major = 0, minor = 0, subminor = 0, release = 0;
  PetscGetVersionNumber(&major, &minor, &subminor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(subminor);
}

std::string mpi_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, size_t(std::max(length, 0)));
  s = s.substr(0, s.find_first_of("\r\n"));  // the first line names the library and version
  return s;
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// PETSc options nobody read by the end of the first round were probably misspelt. Options
// PETSc itself reads only at PetscFinalize are not reported. With -inputs_only nothing reads
// the solver's options, and the warning says so instead of suspecting a typo.
void warn_unused_options(bool inputs_only) {
  PetscInt n = 0;
  char **names = nullptr, **values = nullptr;
  if (PetscOptionsLeftGet(nullptr, &n, &names, &values) != 0) return;
  for (PetscInt i = 0; i < n; ++i) {
    const std::string name = names[i];
    if (name == "options_left" || name.rfind("log_", 0) == 0 || name.rfind("malloc", 0) == 0)
      continue;
    const bool solver_option = name.find("ksp_") != std::string::npos ||
                               name.find("pc_") != std::string::npos ||
                               name.find("snes_") != std::string::npos;
    std::fprintf(stderr, "pins generate: warning: option -%s was not used (%s)\n", name.c_str(),
                 inputs_only && solver_option ? "-inputs_only runs no solver" : "misspelt?");
  }
  PetscOptionsLeftRestore(nullptr, &n, &names, &values);
}

// Runs OpenMP, and so OpenBLAS (whose OpenMP build asks omp_get_max_threads() on every
// call), on one thread while alive. PETSc's dot products and norms go to BLAS; threaded,
// they round differently for different thread counts, and mpiexec's core binding changes
// the count, so the data would depend on how the run was launched. Measured on a 2-core
// machine at 128x128: u differed between `pins generate` and `mpiexec -n 2 pins generate`,
// and with the other core busy, spinning BLAS threads made a plain run 3-4x slower
// (bench/RESULTS.md).
class SingleThreadedBlas {
 public:
#ifdef PINS_HAVE_OPENMP
  SingleThreadedBlas() : previous_(omp_get_max_threads()) {
    omp_set_num_threads(1);
  }
  ~SingleThreadedBlas() {
    omp_set_num_threads(previous_);
  }

 private:
  int previous_;
#endif
};

// The arrays of one sample: every input field, then u (none for inputs-only datasets), in
// one contiguous buffer.
struct SampleArrays {
  std::vector<double> values;
  std::vector<size_t> offsets;  // start of each input, then of u (= the end if unlabelled)
  std::vector<std::uint64_t> seeds;

  explicit SampleArrays(const DatasetInfo& info) : seeds(size_t(info.seed_streams)) {
    size_t total = 0;
    for (const auto& in : info.inputs) {
      offsets.push_back(total);
      total += size_t(info.input_size(in));
    }
    offsets.push_back(total);
    size_t u_size = 0;  // inputs only: no room for a solution
    if (info.labelled) {
      u_size = 1;
      for (auto s : info.solution_shape()) u_size *= size_t(s);
    }
    values.resize(total + u_size);
  }
  std::vector<double*> inputs() {
    std::vector<double*> out;
    for (size_t k = 0; k + 1 < offsets.size(); ++k) out.push_back(values.data() + offsets[k]);
    return out;
  }
  std::vector<const double*> const_inputs() const {
    std::vector<const double*> out;
    for (size_t k = 0; k + 1 < offsets.size(); ++k) out.push_back(values.data() + offsets[k]);
    return out;
  }
  double* u() { return values.data() + offsets.back(); }
};

// Iteration and residual statistics: each group's first process counts its samples, and
// reduce() combines them over all processes.
struct Stats {
  std::int64_t count = 0, it_min = std::numeric_limits<std::int64_t>::max(), it_max = 0;
  double it_sum = 0, res_max = 0;
  void add(std::int64_t its, double res) {
    ++count;
    it_min = std::min(it_min, its);
    it_max = std::max(it_max, its);
    it_sum += double(its);
    res_max = std::max(res_max, res);
  }
  void reduce(MPI_Comm comm) {
    static_assert(sizeof(long long) == sizeof(std::int64_t), "MPI_LONG_LONG for int64");
    MPI_Allreduce(MPI_IN_PLACE, &count, 1, MPI_LONG_LONG, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, &it_min, 1, MPI_LONG_LONG, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &it_max, 1, MPI_LONG_LONG, MPI_MAX, comm);
    MPI_Allreduce(MPI_IN_PLACE, &it_sum, 1, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, &res_max, 1, MPI_DOUBLE, MPI_MAX, comm);
  }
};

// Rank 0's text on every process (attributes must be the same everywhere: they are written
// collectively).
std::string broadcast(MPI_Comm comm, std::string text) {
  long length = long(text.size());
  MPI_Bcast(&length, 1, MPI_LONG, 0, comm);
  text.resize(size_t(length));
  if (length > 0) MPI_Bcast(text.data(), int(length), MPI_CHAR, 0, comm);
  return text;
}

// The processes of one -generate_procs_per_sample group: its communicator (PETSC_COMM_SELF
// for groups of one), which group it is, and whether this process is its first.
class Group {
 public:
  Group(MPI_Comm world, int size) {
    int rank = 0;
    MPI_Comm_rank(world, &rank);
    index_ = rank / size;
    root_ = rank % size == 0;
    if (size > 1) MPI_Comm_split(world, index_, rank, &comm_);
  }
  ~Group() {
    if (comm_ != PETSC_COMM_SELF) MPI_Comm_free(&comm_);
  }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  MPI_Comm comm() const { return comm_; }
  int index() const { return index_; }
  bool root() const { return root_; }

 private:
  int index_ = 0;
  bool root_ = true;
  MPI_Comm comm_ = PETSC_COMM_SELF;
};

DatasetInfo dataset_info(const ProblemFamily& family, const std::vector<std::int64_t>& grid,
                         const detail::SolverDescription& solver, const GenerateOptions& opts,
                         int processes, const std::string& created) {
  DatasetInfo info;
  family.describe(&info);
  // What the PETSc-free half of the family says: its inputs, its operator, its dof.
  const Family& core = find_family(opts.pde);
  info.pde = core.name();
  if (!info.mesh) info.grid = grid;  // a mesh family gives its points as the grid
  info.inputs.clear();
  // A trajectory stores the inputs without the state: the states are u[:, t].
  for (const auto& in : core.dataset_inputs())
    info.inputs.push_back({in.name, in.components, in.on_cells});
  info.dof = core.dof();
  info.operator_description = core.operator_description();
  info.labelled = !opts.inputs_only;
  if (family.time_dependent()) info.times = std::int64_t{family.steps()} + 1;
  if (info.labelled && family.time_dependent()) {
    // TS: every step's SNES solves to ‖G(u^{t+1})‖ ≤ solver.rtol ‖u^t‖.
    info.ksp_type = solver.ksp_type;
    info.pc_type = solver.pc_type;
    info.rtol = solver.rtol;
    info.extra = {
        {"solver.ts_type", solver.ts_type},
        {"solver.dt", solver.dt},
        {"solver.steps", std::int64_t{solver.steps}},
        {"solver.snes_type", solver.snes_type},
        {"solver.linesearch_type", solver.linesearch_type},
        {"solver.max_it", std::int64_t{solver.max_it}},
        {"solver.ksp_rtol", solver.ksp_rtol},
        {"solver.norm_type", solver.norm_type},
        {"solver.initial_guess", std::string("the previous state u^t")},
        {"solver.iterations", std::string("Newton iterations per trajectory (all steps)")},
        {"solver.residual_check",
         std::string("every step's relative residual ||G(u^{t+1})|| / ||u^t|| <= solver.rtol, "
                     "G = dt * F(u, (u - u^t)/dt) the TS implicit function (computed with "
                     "TSComputeIFunction); residual is the largest over the steps")},
    };
  } else if (info.labelled && solver.nonlinear) {
    // SNES: solver.rtol is its tolerance on ‖F(u)‖/‖F(0)‖; ksp/pc are its linear solves'.
    info.ksp_type = solver.ksp_type;
    info.pc_type = solver.pc_type;
    info.rtol = solver.rtol;
    info.extra = {
        {"solver.snes_type", solver.snes_type},
        {"solver.linesearch_type", solver.linesearch_type},
        {"solver.atol", solver.atol},
        {"solver.max_it", std::int64_t{solver.max_it}},
        {"solver.ksp_rtol", solver.ksp_rtol},
        {"solver.norm_type", solver.norm_type},
        {"solver.initial_guess", std::string("u = 0")},
        {"solver.iterations", std::string("Newton iterations per sample")},
        {"solver.residual_check",
         std::string("true relative residual ||F(u)|| / ||F(0)|| <= solver.rtol, computed with "
                     "SNESComputeFunction, for every sample")},
    };
  } else if (info.labelled) {  // an inputs-only file records no solver: none ran
    info.ksp_type = solver.ksp_type;
    info.pc_type = solver.pc_type;
    info.rtol = solver.rtol;
    info.extra = {
        {"solver.norm_type", solver.norm_type},
        {"solver.max_it", std::int64_t{solver.max_it}},
        {"solver.residual_check", std::string("true residual ||f - A u|| / ||f|| <= solver.rtol, "
                                              "computed with MatMult, for every sample")},
    };
  }
  // A parallel solve rounds differently from a one-process solve: the data depend on k.
  if (info.labelled)
    info.extra.push_back({"solver.processes_per_sample", std::int64_t{opts.procs_per_sample}});
  info.extra.push_back({"mpi_processes", std::int64_t{processes}});
  info.extra.push_back({"created", created});
  if (!opts.command.empty()) info.extra.push_back({"command", opts.command});
  info.extra.push_back({"version.petsc", petsc_version()});
  info.extra.push_back({"version.mpi", mpi_version()});
  return info;
}

}  // namespace

GenerateSummary generate(MPI_Comm comm, const GenerateOptions& opts) {
  ErrorCapture capture;
  SingleThreadedBlas single_thread;
  const double t_start = MPI_Wtime();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const char* prefix = opts.prefix.empty() ? nullptr : opts.prefix.c_str();
  const std::string created = broadcast(comm, rank == 0 ? utc_now() : std::string());

  // 1. Set up the family and read the solver settings. The options are the same on every
  //    process, so this normally fails everywhere alike; agreeing anyway keeps an odd local
  //    failure (memory, say) from leaving the others waiting.
  std::optional<Failure> failure;
  std::unique_ptr<ProblemFamily> family;
  detail::SolverDescription solver;
  std::vector<std::int64_t> grid;
  DatasetInfo info;
  detail::record_failure(failure, -1, [&] {
    opts.validate();
    PINS_CHECK(size % opts.procs_per_sample == 0, "-generate_procs_per_sample ",
               opts.procs_per_sample, " does not divide the ", size, " MPI processes: run a ",
               "multiple of ", opts.procs_per_sample, " processes (mpiexec -n ",
               opts.procs_per_sample, ", ", 2 * opts.procs_per_sample, ", ...)");
    grid = opts.grid_for(find_family(opts.pde).dimension());
    family = find_problem_family(opts.pde).create();
    PINS_PETSC_CALL(family->SetFromOptions(comm, prefix));
    family->set_up(grid, opts.seed);
    // The two halves of a (user-registered) family must agree on what a sample is.
    PINS_CHECK(family->time_dependent() == find_family(opts.pde).time_dependent(), "-pde ",
               opts.pde, ": the PETSc half says the family is ",
               family->time_dependent() ? "" : "not ", "time-dependent, its core half (",
               "pins::Family::state_input) the opposite");
    PINS_CHECK(!opts.inputs_only || !family->time_dependent(), "-inputs_only: -pde ", opts.pde,
               " is time-dependent and its datasets are trajectories; its inputs alone (no "
               "states) leave nothing to learn from");
    // Even configuring a KSP reads (and may reject) the solver options: not for inputs only.
    if (!opts.inputs_only)
      solver = family->time_dependent()
                   ? detail::describe_time_stepper(PETSC_COMM_SELF, opts.prefix, *family)
                   : detail::describe_solver(PETSC_COMM_SELF, opts.prefix, family->nonlinear());
    info = dataset_info(*family, grid, solver, opts, size, created);
    // Refused here, before any DM exists: a mesh family's DM is not split by the group's
    // communicator (SampleSolver checks for a DMDA again).
    PINS_CHECK(opts.procs_per_sample == 1 || !info.mesh, "-generate_procs_per_sample ",
               opts.procs_per_sample, ": -pde ", opts.pde, " is on an unstructured mesh (DMPlex); ",
               "only families on a DMDA solve one sample on several processes (use "
               "-generate_procs_per_sample 1)");
    // MPI-IO counts are ints: one write of one sample's array is at most 2^31 - 1 bytes.
    const size_t u_bytes = SampleArrays(info).values.size() * sizeof(double);
    PINS_CHECK(u_bytes <= size_t(std::numeric_limits<int>::max()), "-grid ", info.grid_string(),
               " is too large for -pde ", opts.pde, ": one sample is ", u_bytes,
               " bytes, at most 2^31 - 1 can be written by one process at once");
  });
  detail::throw_if_any(comm, failure);

  // 2. Open the output (a temporary file next to it, created collectively) before any
  //    solving, so a bad path or an existing file fails in a second, not after the run.
  if (rank == 0)
    detail::record_failure(failure, -1, [&] {
      std::error_code ec;
      PINS_CHECK(opts.force || !std::filesystem::exists(opts.output, ec), "-o ", opts.output,
                 " already exists; pass -force to overwrite it");
    });
  detail::throw_if_any(comm, failure);
  std::unique_ptr<ParallelDatasetWriter> writer;
  detail::record_failure(failure, -1, [&] {
    writer = std::make_unique<ParallelDatasetWriter>(comm, opts.output, info, opts.samples,
                                                     opts.force);
  });
  detail::throw_if_any(comm, failure);

  // 3. Groups of k processes, one sample at a time each, and their solvers (collective on
  //    the group).
  const Group group(comm, opts.procs_per_sample);
  const int groups = size / opts.procs_per_sample;
  SampleArrays arrays(info);
  std::unique_ptr<detail::SampleSolver> sample_solver;
  if (!opts.inputs_only)
    detail::record_failure(failure, -1, [&] {
      sample_solver =
          std::make_unique<detail::SampleSolver>(*family, info.dof, opts.prefix, group.comm());
    });
  detail::throw_if_any(comm, failure);

  // 4. Rounds: in round r, group g does sample r*G + g and its first process writes it
  //    (collectively with everybody, possibly writing nothing). Groups beyond the last
  //    sample (fewer samples than groups) only take part in the writes.
  Stats stats;
  detail::Progress progress("pins generate", opts.samples, rank == 0 && opts.progress);
  double write_seconds = 0;
  const double t_solve = MPI_Wtime();
  const std::int64_t rounds = (opts.samples + groups - 1) / groups;
  for (std::int64_t r = 0; r < rounds; ++r) {
    const std::int64_t index = r * groups + group.index();
    std::int64_t mine = -1;  // the sample this process writes in this round
    SampleRecord record;
    if (index < opts.samples) {
      try {
        record.inputs = arrays.const_inputs();
        record.seeds = arrays.seeds.data();
        // A time-dependent family writes its initial state into u[0] after the inputs.
        std::vector<double*> fields = arrays.inputs();
        if (family->time_dependent()) fields.push_back(arrays.u());
        if (sample_solver || group.root()) {
          family->sample(std::uint64_t(index), fields, arrays.seeds.data());
        }
        if (sample_solver) {
          const detail::SampleResult result =
              sample_solver->solve(arrays.const_inputs(), arrays.u());
          if (!result.failure.empty()) throw Error(result.failure);
          record.u = arrays.u();
          record.iterations = result.iterations;
          record.residual = result.residual;
        }
        if (group.root()) {
          writer->check_sample(index, record);
          mine = index;
          if (sample_solver) stats.add(record.iterations, record.residual);
        }
      } catch (const std::exception& e) {
        failure = Failure{index, "sample " + std::to_string(index) + ": " + exception_message(e)};
      }
    }
    // Everybody agrees before the collective write: a failed sample stops the run here.
    if (auto message = detail::agree(comm, failure)) {
      progress.finish();
      throw CollectiveError(*message);
    }
    const double t_write = MPI_Wtime();
    // A write error is agreed at the next round (or after the last), before the next write.
    detail::record_failure(failure, r * groups, [&] { writer->write_round(mine, record); });
    write_seconds += MPI_Wtime() - t_write;
    if (r == 0 && rank == 0) warn_unused_options(opts.inputs_only);
    progress.update(std::min<std::int64_t>((r + 1) * groups, opts.samples));
  }
  progress.finish();
  detail::throw_if_any(comm, failure);
  const double solve_seconds = MPI_Wtime() - t_solve;
  sample_solver.reset();
  stats.reduce(comm);

  // 5. Iterations, residuals and seeds (each process its own rows), the collective close,
  //    and rank 0's rename over the destination: ParallelDatasetWriter::commit agrees on
  //    failures itself, so every process throws the same message.
  const double t_commit = MPI_Wtime();
  // The run's wall time so far (sampling, solves, writes; every process has reached here
  // after the last collective write): what the dataset cost, for pins bench's break-even.
  double elapsed = MPI_Wtime() - t_start;
  MPI_Bcast(&elapsed, 1, MPI_DOUBLE, 0, comm);
  const std::vector<Attribute> cost = {{"generation_seconds", elapsed}};
  detail::record_failure(failure, -1, [&] { writer->commit(cost); });
  detail::throw_if_any(comm, failure);
  write_seconds += MPI_Wtime() - t_commit;

  GenerateSummary s;
  s.samples = opts.samples;
  s.inputs_only = opts.inputs_only;
  s.grid = info.grid;
  s.grid_text = info.grid_string();
  s.processes = size;
  s.procs_per_sample = opts.procs_per_sample;
  if (stats.count > 0) {
    s.iterations_min = stats.it_min;
    s.iterations_max = stats.it_max;
    s.iterations_mean = stats.it_sum / double(stats.count);
  }
  s.residual_max = stats.res_max;
  s.rtol = solver.rtol;
  s.ksp_type = solver.ksp_type;
  s.pc_type = solver.pc_type;
  s.snes_type = solver.snes_type;
  s.ts_type = solver.ts_type;
  s.dt = solver.dt;
  s.steps = solver.steps;
  s.solve_seconds = solve_seconds;
  s.write_seconds = write_seconds;
  s.seconds = MPI_Wtime() - t_start;
  s.output = opts.output;
  return s;
}

}  // namespace pins::petsc
