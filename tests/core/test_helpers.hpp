#pragma once
// Shared helpers of the pins::core tests.
#include <torch/torch.h>

#include "doctest_torch.hpp"

#include <limits>
#include <string>

#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil_reference.hpp"

namespace pins::test {

/// The device pins' kernels run on: the CPU for host Kokkos backends (Serial, OpenMP), the
/// GPU for CUDA/HIP builds. Tests create their tensors there, so the same tests check a GPU
/// build of pins::core.
inline torch::Device device() {
  return pins::kokkos_uses_host_memory() ? torch::Device(torch::kCPU)
                                         : torch::Device(torch::kCUDA);
}

/// Tensor options for `dtype` on the kernels' device.
inline torch::TensorOptions opts(torch::ScalarType dtype = torch::kFloat64) {
  return torch::TensorOptions().dtype(dtype).device(device());
}

/// Machine epsilon of a torch dtype.
inline double eps_of(torch::ScalarType t) {
  return t == torch::kFloat32 ? std::numeric_limits<float>::epsilon()
                              : std::numeric_limits<double>::epsilon();
}

/// A u (− f) for the 5-point coefficients c [B,5,ny,nx] by the serial reference, which runs
/// on the CPU in double precision whatever the kernels' device; on u's device.
inline torch::Tensor reference_apply(const torch::Tensor& c, const torch::Tensor& u,
                                     const torch::Tensor& f = {}) {
  auto cd = c.to(torch::kCPU, torch::kFloat64).contiguous();
  auto ud = u.to(torch::kCPU, torch::kFloat64).contiguous();
  auto fd = f.defined() ? f.to(torch::kCPU, torch::kFloat64).contiguous() : torch::Tensor();
  auto out = torch::empty_like(ud);
  pins::reference::stencil_apply(cd.data_ptr<double>(), ud.data_ptr<double>(),
                                 fd.defined() ? fd.data_ptr<double>() : nullptr,
                                 out.data_ptr<double>(), u.size(0), u.size(1), u.size(2));
  return out.to(u.device());
}

/// Bound on the rounding error of one 5-point row: a few ulps of the sum of |terms|.
inline double row_tolerance(const torch::Tensor& c, const torch::Tensor& u, torch::ScalarType t) {
  const double scale = (c.abs().amax() * u.abs().amax()).item<double>() * 5.0;
  return 8.0 * eps_of(t) * scale;
}

/// Random coefficients [B,5,ny,nx] of a diagonally dominant but unsymmetric 5-point operator;
/// entries that point out of the grid are set to garbage, since they must be ignored.
inline torch::Tensor random_coeffs(int64_t B, int64_t ny, int64_t nx,
                                   torch::ScalarType dtype = torch::kFloat64) {
  auto c = torch::rand({B, 5, ny, nx}, torch::kFloat64) - 1.0;  // off-diagonals < 0
  c.select(1, 0) = 4.5 + torch::rand({B, ny, nx}, torch::kFloat64);
  // Out-of-grid weights: large, so a kernel that used them would be caught.
  c.select(1, 1).select(2, 0).fill_(1e3);
  c.select(1, 2).select(2, nx - 1).fill_(1e3);
  c.select(1, 3).select(1, 0).fill_(1e3);
  c.select(1, 4).select(1, ny - 1).fill_(1e3);
  return c.to(opts(dtype)).contiguous();
}

/// Whether a callable throws an exception whose message contains `needle`.
template <class F>
bool throws_with(F&& f, const std::string& needle) {
  try {
    f();
  } catch (const std::exception& e) {
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

}  // namespace pins::test
