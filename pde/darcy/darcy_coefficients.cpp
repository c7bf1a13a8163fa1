#include "pde/darcy/darcy_coefficients.hpp"

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <vector>

#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"
#include "pins/core/kernel_launch.hpp"
#include "pins/core/kokkos_runtime.hpp"

namespace pins::darcy {

namespace {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

// One functor for 2-D and 3-D: a 2-D grid is a 3-D one with nz = 1 whose z faces are
// skipped, so the 2-D coefficients keep their sum order (w + e + s + n) bit for bit.
template <class T>
struct CoefficientFunctor {
  Kokkos::View<const T****, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged> kappa;
  Kokkos::View<T*****, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged> c;  // [B,K,nz,ny,nx]
  int nz, ny, nx;
  bool three_d;
  bool no_flux;  // boundary faces contribute nothing (homogeneous Neumann)
  double inv_hx2, inv_hy2, inv_hz2;

  KOKKOS_INLINE_FUNCTION double face(int b, int p, int i, int j, int pp, int ii, int jj) const {
    const double k = kappa(b, p, i, j);
    if (pp < 0 || pp >= nz || ii < 0 || ii >= ny || jj < 0 || jj >= nx)
      return no_flux ? 0.0 : boundary_face_coefficient(k);
    return interior_face_coefficient(k, kappa(b, pp, ii, jj));
  }

  KOKKOS_INLINE_FUNCTION void operator()(const int b, const int p, const int i,
                                         const int j) const {
    const double w = face(b, p, i, j, p, i, j - 1) * inv_hx2;
    const double e = face(b, p, i, j, p, i, j + 1) * inv_hx2;
    const double s = face(b, p, i, j, p, i - 1, j) * inv_hy2;
    const double n = face(b, p, i, j, p, i + 1, j) * inv_hy2;
    // Off-diagonal weights of neighbours that exist; boundary faces only add to the centre.
    c(b, 1, p, i, j) = j > 0 ? T(-w) : T(0);
    c(b, 2, p, i, j) = j < nx - 1 ? T(-e) : T(0);
    c(b, 3, p, i, j) = i > 0 ? T(-s) : T(0);
    c(b, 4, p, i, j) = i < ny - 1 ? T(-n) : T(0);
    if (!three_d) {
      c(b, 0, p, i, j) = T(w + e + s + n);
      return;
    }
    const double d = face(b, p, i, j, p - 1, i, j) * inv_hz2;
    const double u = face(b, p, i, j, p + 1, i, j) * inv_hz2;
    c(b, 0, p, i, j) = T(w + e + s + n + d + u);
    c(b, 5, p, i, j) = p > 0 ? T(-d) : T(0);
    c(b, 6, p, i, j) = p < nz - 1 ? T(-u) : T(0);
  }
};

template <class T>
void fill(const torch::Tensor& kappa, torch::Tensor& c, bool no_flux) {
  const bool three_d = kappa.dim() == 4;
  const int B = kappa.size(0), nz = three_d ? kappa.size(1) : 1;
  const int ny = kappa.size(-2), nx = kappa.size(-1), K = c.size(1);
  using KappaView = decltype(CoefficientFunctor<T>::kappa);
  using CoeffView = decltype(CoefficientFunctor<T>::c);
  CoefficientFunctor<T> fn{KappaView(kappa.data_ptr<T>(), B, nz, ny, nx),
                           CoeffView(c.data_ptr<T>(), B, K, nz, ny, nx),
                           nz,
                           ny,
                           nx,
                           three_d,
                           no_flux,
                           double(nx) * nx,
                           double(ny) * ny,
                           double(nz) * nz};
  const kernels::LaunchSpace space = kernels::launch_space();
  Kokkos::parallel_for(
      "pins::darcy::stencil_coefficients",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<4>>(space, {0, 0, 0, 0}, {B, nz, ny, nx}), fn);
  kernels::finish(space);
}

}  // namespace

torch::Tensor stencil_coefficients(const torch::Tensor& kappa, Boundary boundary) {
  PINS_CHECK(kappa.defined() && (kappa.dim() == 3 || kappa.dim() == 4),
             "pins::darcy::stencil_coefficients: kappa must have shape [B, ny, nx] (2-D) or "
             "[B, nz, ny, nx] (3-D), got ",
             kappa.defined() ? kappa.sizes() : torch::IntArrayRef{});
  PINS_CHECK(kappa.scalar_type() == torch::kFloat64 || kappa.scalar_type() == torch::kFloat32,
             "pins::darcy::stencil_coefficients: kappa must be float32 or float64, got ",
             kappa.scalar_type());
  PINS_CHECK(kappa.is_contiguous(),
             "pins::darcy::stencil_coefficients: kappa must be contiguous; call .contiguous()");
  PINS_CHECK(kappa.device().is_cpu() == kokkos_uses_host_memory(),
             "pins::darcy::stencil_coefficients: kappa is on ", kappa.device(),
             " but Kokkos runs on ", ExecSpace::name());
  PINS_CHECK(kappa.numel() > 0, "pins::darcy::stencil_coefficients: kappa is empty");
  PINS_CHECK((kappa > 0).all().item<bool>() && kappa.isfinite().all().item<bool>(),
             "pins::darcy::stencil_coefficients: kappa must be finite and positive everywhere "
             "(min ", kappa.min().item<double>(), ")");
  ensure_kokkos_initialized();
  // 5 channels in 2-D, 7 in 3-D, then the grid.
  std::vector<std::int64_t> shape = kappa.sizes().vec();
  shape.insert(shape.begin() + 1, kappa.dim() == 4 ? 7 : 5);
  auto c = torch::empty(shape, kappa.options());
  if (kappa.scalar_type() == torch::kFloat64)
    fill<double>(kappa, c, boundary == Boundary::kNoFlux);
  else
    fill<float>(kappa, c, boundary == Boundary::kNoFlux);
  return c;
}

}  // namespace pins::darcy
