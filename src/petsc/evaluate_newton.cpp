// Newton from the surrogate's guess against Newton from zero on a dataset's samples
// (pins/petsc/evaluate.hpp: compare_newton_guess).
#include <torch/torch.h>

#include <chrono>
#include <cstring>

#include "dataset_resolver.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"
#include "pins/petsc/evaluate.hpp"
#include "pins/petsc/snes_guess.hpp"

namespace pins::petsc {

namespace {

using Clock = std::chrono::steady_clock;

// Both sides are timed the same way: the best of this many solves of each sample (on a
// shared machine the minimum is the most repeatable estimate of the work's cost).
constexpr int kRepeats = 3;

// The guess's input vectors on the SNES's DM, filled with sample i's fields before each solve:
// what a PDE code that has κ and f passes to snes_set_surrogate_guess.
class GuessInputs {
 public:
  explicit GuessInputs(const Dataset& d) : d_(d) {}
  ~GuessInputs() {
    for (Vec& v : vecs_) VecDestroy(&v);
  }
  const std::vector<Vec>& fill(SNES snes, std::int64_t i) {
    DM dm;
    PINS_PETSC_CALL(SNESGetDM(snes, &dm));
    if (vecs_.empty())
      for (size_t k = 0; k < d_.inputs.size(); ++k) {
        Vec v;
        PINS_PETSC_CALL(DMCreateGlobalVector(dm, &v));
        vecs_.push_back(v);
      }
    for (size_t k = 0; k < d_.inputs.size(); ++k) {
      // One process: the DMDA's global order is the natural (row-major) order of the dataset.
      PetscScalar* a;
      PetscInt n;
      PINS_PETSC_CALL(VecGetLocalSize(vecs_[k], &n));
      PINS_CHECK(n == d_.inputs[k].sample_size(), "input '", d_.inputs[k].name, "' has ",
                 d_.inputs[k].sample_size(), " values per sample, the grid ", n);
      PINS_PETSC_CALL(VecGetArrayWrite(vecs_[k], &a));
      std::memcpy(a, d_.inputs[k].sample(i), sizeof(double) * size_t(n));
      PINS_PETSC_CALL(VecRestoreArrayWrite(vecs_[k], &a));
    }
    return vecs_;
  }

 private:
  const Dataset& d_;
  std::vector<Vec> vecs_;
};

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

NewtonComparison compare_newton_guess(const Dataset& d, const std::string& model_path, int count,
                                      double rtol, const std::string& solver_prefix) {
  PINS_CHECK(count >= 1, "the number of Newton comparisons must be at least 1, got ", count);
  NewtonComparison out;
  out.rtol = rtol > 0 ? rtol : d.info.rtol;
  // A trajectory is one Newton solve per step, each predicted by the guess.
  out.steps = d.info.times > 0 ? int(d.info.times - 1) : 1;
  std::shared_ptr<const SurrogateGuessModel> model;
  PINS_PETSC_CALL(load_surrogate_guess_model(PETSC_COMM_SELF, model_path, "-model",
                                             torch::get_num_threads(), &model));
  detail::Resolver zero(d, solver_prefix, out.rtol);
  detail::Resolver guessed(d, solver_prefix, out.rtol);
  GuessInputs inputs(d);
  std::int64_t sample = 0;
  double inference = 0;
  guessed.set_snes_hooks(
      [&](SNES snes) {
        // The comparison measures the guess itself: on every sample, flagged or not.
        SurrogateGuessSettings settings;
        settings.input_check = false;
        PINS_PETSC_CALL(
            snes_set_surrogate_guess(snes, model, inputs.fill(snes, sample), settings));
      },
      [&](SNES snes) {
        SurrogateGuessStats stats;
        PINS_PETSC_CALL(snes_get_surrogate_guess_stats(snes, &stats));
        PINS_CHECK(stats.guesses == out.steps && !stats.nonfinite, "sample ", sample,
                   ": the network's guess was not used on every solve (NaN/Inf, or ",
                   stats.guesses, " guesses for ", out.steps, " solves)");
        inference = stats.seconds_total;
      });
  zero.solve(0);  // warm-up of both: first-call costs (LibTorch's threads, FFT plans, GAMG)
  guessed.solve(0);
  auto timed = [&](detail::Resolver& r, std::int64_t i, double* best, double* best_inference) {
    int its = 0;
    for (int rep = 0; rep < kRepeats; ++rep) {
      sample = i;
      const auto t0 = Clock::now();
      const detail::SampleResult res = r.solve(i);
      const double t = std::chrono::duration<double>(Clock::now() - t0).count();
      its = res.iterations;  // the same every time: the solves are deterministic
      if (rep == 0 || t < *best) {
        *best = t;
        if (best_inference) *best_inference = inference;
      }
    }
    return its;
  };
  for (int i = 0; i < count; ++i) {
    double tz = 0, tg = 0, ti = 0;
    out.iterations_zero.push_back(timed(zero, i, &tz, nullptr));
    out.iterations_guess.push_back(timed(guessed, i, &tg, &ti));
    out.seconds_zero.push_back(tz);
    out.seconds_guess.push_back(tg);
    out.seconds_inference.push_back(ti);
  }
  auto mean_int = [](const std::vector<int>& v) {
    double s = 0;
    for (int x : v) s += x;
    return s / double(v.size());
  };
  out.mean_iterations_zero = mean_int(out.iterations_zero);
  out.mean_iterations_guess = mean_int(out.iterations_guess);
  out.mean_seconds_zero = mean(out.seconds_zero);
  out.mean_seconds_guess = mean(out.seconds_guess);
  out.mean_seconds_inference = mean(out.seconds_inference);
  return out;
}

}  // namespace pins::petsc
