#include "pde/darcy/darcy_coefficients.hpp"

#include <Kokkos_Core.hpp>

#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"
#include "pins/core/kokkos_runtime.hpp"

namespace pins::darcy {

namespace {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

template <class T>
struct CoefficientFunctor {
  Kokkos::View<const T***, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged> kappa;
  Kokkos::View<T****, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged> c;  // [B,5,ny,nx]
  int ny, nx;
  double inv_hx2, inv_hy2;

  KOKKOS_INLINE_FUNCTION double face(int b, int i, int j, int ii, int jj) const {
    const double k = kappa(b, i, j);
    if (ii < 0 || ii >= ny || jj < 0 || jj >= nx) return boundary_face_coefficient(k);
    return interior_face_coefficient(k, kappa(b, ii, jj));
  }

  KOKKOS_INLINE_FUNCTION void operator()(const int b, const int i, const int j) const {
    const double w = face(b, i, j, i, j - 1) * inv_hx2;
    const double e = face(b, i, j, i, j + 1) * inv_hx2;
    const double s = face(b, i, j, i - 1, j) * inv_hy2;
    const double n = face(b, i, j, i + 1, j) * inv_hy2;
    c(b, 0, i, j) = T(w + e + s + n);
    // Off-diagonal weights of neighbours that exist; boundary faces only add to the centre.
    c(b, 1, i, j) = j > 0 ? T(-w) : T(0);
    c(b, 2, i, j) = j < nx - 1 ? T(-e) : T(0);
    c(b, 3, i, j) = i > 0 ? T(-s) : T(0);
    c(b, 4, i, j) = i < ny - 1 ? T(-n) : T(0);
  }
};

template <class T>
void fill(const torch::Tensor& kappa, torch::Tensor& c) {
  const int B = kappa.size(0), ny = kappa.size(1), nx = kappa.size(2);
  using KappaView = decltype(CoefficientFunctor<T>::kappa);
  using CoeffView = decltype(CoefficientFunctor<T>::c);
  CoefficientFunctor<T> fn{KappaView(kappa.data_ptr<T>(), B, ny, nx),
                           CoeffView(c.data_ptr<T>(), B, 5, ny, nx),
                           ny,
                           nx,
                           double(nx) * nx,
                           double(ny) * ny};
  Kokkos::parallel_for("pins::darcy::stencil_coefficients",
                       Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<3>>({0, 0, 0}, {B, ny, nx}),
                       fn);
  Kokkos::fence();
}

}  // namespace

torch::Tensor stencil_coefficients(const torch::Tensor& kappa) {
  PINS_CHECK(kappa.defined() && kappa.dim() == 3,
             "pins::darcy::stencil_coefficients: kappa must have shape [B, ny, nx], got ",
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
  auto c = torch::empty({kappa.size(0), 5, kappa.size(1), kappa.size(2)}, kappa.options());
  if (kappa.scalar_type() == torch::kFloat64)
    fill<double>(kappa, c);
  else
    fill<float>(kappa, c);
  return c;
}

}  // namespace pins::darcy
