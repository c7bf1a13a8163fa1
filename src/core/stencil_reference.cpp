// Deliberately simple: one scalar loop nest with explicit bounds checks, written from the
// definition of the operator and not from the optimised kernels.
#include "pins/core/stencil_reference.hpp"

#include <vector>

namespace pins::reference {

namespace {
struct Indexer {
  std::int64_t ny, nx;
  std::int64_t field(std::int64_t b, std::int64_t i, std::int64_t j) const {
    return (b * ny + i) * nx + j;
  }
  std::int64_t coeff(std::int64_t b, int k, std::int64_t i, std::int64_t j) const {
    return ((b * 5 + k) * ny + i) * nx + j;
  }
};
// Offsets (di, dj) of channels C, W, E, S, N.
constexpr int kDi[5] = {0, 0, 0, -1, 1};
constexpr int kDj[5] = {0, -1, 1, 0, 0};
}  // namespace

void stencil_apply(const double* coeffs, const double* u, const double* f, double* out,
                   std::int64_t batch, std::int64_t ny, std::int64_t nx) {
  const Indexer ix{ny, nx};
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < ny; ++i)
      for (std::int64_t j = 0; j < nx; ++j) {
        double s = 0;
        for (int k = 0; k < 5; ++k) {
          const std::int64_t ii = i + kDi[k], jj = j + kDj[k];
          if (ii < 0 || ii >= ny || jj < 0 || jj >= nx) continue;
          s += coeffs[ix.coeff(b, k, i, j)] * u[ix.field(b, ii, jj)];
        }
        out[ix.field(b, i, j)] = f ? s - f[ix.field(b, i, j)] : s;
      }
}

void stencil_apply_transpose(const double* coeffs, const double* v, double* out,
                             std::int64_t batch, std::int64_t ny, std::int64_t nx) {
  const Indexer ix{ny, nx};
  for (std::int64_t p = 0; p < batch * ny * nx; ++p) out[p] = 0;
  // Scatter form: row (i,j) of A touches column (i+di, j+dj) with weight coeff k.
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < ny; ++i)
      for (std::int64_t j = 0; j < nx; ++j)
        for (int k = 0; k < 5; ++k) {
          const std::int64_t ii = i + kDi[k], jj = j + kDj[k];
          if (ii < 0 || ii >= ny || jj < 0 || jj >= nx) continue;
          out[ix.field(b, ii, jj)] += coeffs[ix.coeff(b, k, i, j)] * v[ix.field(b, i, j)];
        }
}

}  // namespace pins::reference
