// Timing a PETSc solver configuration on a dataset's samples (pins/petsc/solver_timing.hpp).
#include "pins/petsc/solver_timing.hpp"

#include <petscsys.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "dataset_resolver.hpp"
#include "pins/core/check.hpp"
#include "pins/petsc/error.hpp"

namespace pins::petsc {

namespace {

bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

// Sets `options` under `prefix` and clears them again when it goes out of scope, so a
// timing leaves the options database as it found it.
class PrefixedOptions {
 public:
  PrefixedOptions(const std::string& prefix, const std::string& text) {
    for (const auto& [name, value] : parse_petsc_options(text)) {
      names_.push_back("-" + prefix + name);
      PINS_PETSC_CALL(PetscOptionsSetValue(nullptr, names_.back().c_str(),
                                           value.empty() ? nullptr : value.c_str()));
    }
  }
  ~PrefixedOptions() {
    for (const auto& n : names_) PetscOptionsClearValue(nullptr, n.c_str());
  }
  PrefixedOptions(const PrefixedOptions&) = delete;
  PrefixedOptions& operator=(const PrefixedOptions&) = delete;

 private:
  std::vector<std::string> names_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_petsc_options(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::pair<std::string, std::string>> out;
  std::string token;
  while (in >> token) {
    const bool option = token.size() > 1 && token[0] == '-' && !is_number(token);
    if (option) {
      out.push_back({token.substr(1), ""});
    } else {
      PINS_CHECK(!out.empty() && out.back().second.empty(), "PETSc options '", text,
                 "': value '", token, "' has no option before it (expected -name value)");
      out.back().second = token;
    }
  }
  return out;
}

nlohmann::json SolverTiming::to_json() const {
  nlohmann::json j = {{"options", options},
                      {"samples", samples},
                      {"converged", converged},
                      {"iterations", iterations},
                      {"residual", residual},
                      {"seconds", seconds},
                      {"mean_iterations", mean_iterations},
                      {"mean_seconds", mean_seconds}};
  if (!failure.empty()) j["failure"] = failure;
  return j;
}

SolverTiming time_solver(const Dataset& d, int count, const std::string& options, int repeats) {
  PINS_CHECK(count >= 1, "solver timing: the sample count must be >= 1, got ", count);
  PINS_CHECK(repeats >= 1, "solver timing: the repeats must be >= 1, got ", repeats);
  PINS_CHECK(d.samples >= 1, "solver timing: the dataset has no samples");
  // A prefix of its own for every timing: nothing set here reaches another solver.
  static int timings = 0;
  const std::string prefix = "pins_timing" + std::to_string(++timings) + "_";
  detail::Resolver resolver(d, prefix);  // sets the dataset's settings under the prefix
  const PrefixedOptions set(prefix, options);  // then the suite's on top
  resolver.keep_solver(true);

  SolverTiming t;
  t.options = options;
  t.samples = int(std::min<std::int64_t>(count, d.samples));
  using Clock = std::chrono::steady_clock;
  // The warm-up: an error in the options (unknown type, missing model file) throws here.
  resolver.attempt(0);
  double sum_it = 0, sum_s = 0;
  for (int i = 0; i < t.samples; ++i) {
    double best = std::numeric_limits<double>::infinity();
    detail::SampleResult r;
    for (int rep = 0; rep < repeats && r.failure.empty(); ++rep) {
      const auto t0 = Clock::now();
      r = resolver.attempt(i);
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    if (!r.failure.empty()) {
      if (t.failure.empty()) t.failure = "sample " + std::to_string(i) + ": " + r.failure;
      continue;
    }
    ++t.converged;
    t.iterations.push_back(r.iterations);
    t.residual.push_back(r.residual);
    t.seconds.push_back(best);
    sum_it += r.iterations;
    sum_s += best;
  }
  if (t.converged > 0) {
    t.mean_iterations = sum_it / t.converged;
    t.mean_seconds = sum_s / t.converged;
  }
  return t;
}

}  // namespace pins::petsc
