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

namespace {
// Indices into [B, channels, nz, ny, nx].
struct Indexer3 {
  std::int64_t nz, ny, nx;
  std::int64_t at(std::int64_t b, std::int64_t ch, std::int64_t channels, std::int64_t z,
                  std::int64_t y, std::int64_t x) const {
    return (((b * channels + ch) * nz + z) * ny + y) * nx + x;
  }
};
}  // namespace

void stencil_apply(const Stencil& s, const double* coeffs, const double* u, const double* f,
                   double* out, std::int64_t batch, std::int64_t nz, std::int64_t ny,
                   std::int64_t nx) {
  const Indexer3 ix{nz, ny, nx};
  const auto off = s.offsets();
  const int K = s.channels(), D = s.dof;
  for (std::int64_t b = 0; b < batch; ++b)
    for (int r = 0; r < D; ++r)
      for (std::int64_t z = 0; z < nz; ++z)
        for (std::int64_t y = 0; y < ny; ++y)
          for (std::int64_t x = 0; x < nx; ++x) {
            double sum = 0;
            for (size_t p = 0; p < off.size(); ++p) {
              const std::int64_t zz = z + off[p][0], yy = y + off[p][1], xx = x + off[p][2];
              if (zz < 0 || zz >= nz || yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
              for (int c = 0; c < D; ++c)
                sum += coeffs[ix.at(b, s.channel(int(p), r, c), K, z, y, x)] *
                       u[ix.at(b, c, D, zz, yy, xx)];
            }
            const std::int64_t o = ix.at(b, r, D, z, y, x);
            out[o] = f ? sum - f[o] : sum;
          }
}

void stencil_apply_transpose(const Stencil& s, const double* coeffs, const double* v,
                             double* out, std::int64_t batch, std::int64_t nz, std::int64_t ny,
                             std::int64_t nx) {
  const Indexer3 ix{nz, ny, nx};
  const auto off = s.offsets();
  const int K = s.channels(), D = s.dof;
  for (std::int64_t i = 0; i < batch * D * nz * ny * nx; ++i) out[i] = 0;
  // Scatter form: row (r, z, y, x) touches column (c, x + offset p) with its coefficient.
  for (std::int64_t b = 0; b < batch; ++b)
    for (int r = 0; r < D; ++r)
      for (std::int64_t z = 0; z < nz; ++z)
        for (std::int64_t y = 0; y < ny; ++y)
          for (std::int64_t x = 0; x < nx; ++x)
            for (size_t p = 0; p < off.size(); ++p) {
              const std::int64_t zz = z + off[p][0], yy = y + off[p][1], xx = x + off[p][2];
              if (zz < 0 || zz >= nz || yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
              for (int c = 0; c < D; ++c)
                out[ix.at(b, c, D, zz, yy, xx)] +=
                    coeffs[ix.at(b, s.channel(int(p), r, c), K, z, y, x)] *
                    v[ix.at(b, r, D, z, y, x)];
            }
}

}  // namespace pins::reference
