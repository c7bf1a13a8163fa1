#pragma once
/// \file
/// Small, portable, counter-seeded random numbers for data generation. A sample's stream
/// depends only on (global seed, sample index, stream id), never on the MPI rank count or
/// the order samples are made in, and gives the same numbers on every platform.

#include <cstdint>

namespace pins {

/// SplitMix64 step: a bijective 64-bit mix, used to derive independent seeds.
std::uint64_t splitmix64(std::uint64_t x);

/// Seed of sample `index`'s stream `stream` under `global_seed` (e.g. stream 0 for κ,
/// 1 for f).
std::uint64_t sample_seed(std::uint64_t global_seed, std::uint64_t index, std::uint64_t stream);

/// xoshiro256** generator with a Box–Muller normal sampler (no std:: distributions, whose
/// output differs between standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next_u64();
  /// Uniform in (0, 1], never 0 (so log() is safe).
  double uniform();
  /// Standard normal N(0, 1).
  double normal();

 private:
  std::uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace pins
