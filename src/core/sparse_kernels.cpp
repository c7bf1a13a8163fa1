// Host-side launchers of the CSR kernels: validate tensors, wrap their memory in unmanaged
// Kokkos Views (no copies) and run the functors of sparse_kernels.hpp.
#include "sparse_kernels.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

#include "pins/core/check.hpp"
#include "pins/core/kernel_launch.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "sparse_launch.hpp"

namespace pins {

namespace {

namespace ks = kernels::sparse;

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

bool device_matches_kokkos(const torch::Tensor& t) {
  // Kokkos' default memory space decides where tensors must live.
  if (kokkos_uses_host_memory()) return t.device().is_cpu();
  return t.device().is_cuda() || t.device().is_hip();
}

// u [B, n] or f [B, n] next to values [Bv, nnz]: the batch is the field's, Bv is 1 or B.
void check_field(const char* caller, const char* name, const torch::Tensor& t, int64_t n,
                 const char* n_name, int64_t batch, const torch::Tensor& values) {
  PINS_CHECK(t.dim() == 2 && t.size(1) == n && (batch < 0 || t.size(0) == batch), caller, ": ",
             name, " must have shape [B, ", n_name, "] = [",
             batch < 0 ? std::string("B") : std::to_string(batch), ", ", n, "], got ", shape_of(t));
  PINS_CHECK(values.size(0) == 1 || t.size(0) == values.size(0), caller, ": ", name,
             " has a batch of ", t.size(0), " but values ", shape_of(values), " have ",
             values.size(0), "; the batches must match (or values have batch 1)");
  PINS_CHECK(t.scalar_type() == values.scalar_type(), caller, ": ", name, " has dtype ",
             t.scalar_type(), " but values have ", values.scalar_type(),
             "; all inputs must share one dtype");
  PINS_CHECK(t.is_contiguous(), caller, ": ", name,
             " must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(t.device() == values.device(), caller, ": ", name, " is on ", t.device(),
             " but values are on ", values.device());
}

template <class T>
ks::Vec<T> vec(const torch::Tensor& t) {
  if (!t.defined()) return {};
  return ks::Vec<T>(t.data_ptr<std::remove_const_t<T>>(), t.numel());
}

ks::Vec<const int32_t> ivec(const torch::Tensor& t) {
  return ks::Vec<const int32_t>(t.data_ptr<int32_t>(), t.numel());
}
ks::Vec<const int64_t> lvec(const torch::Tensor& t) {
  return ks::Vec<const int64_t>(t.data_ptr<int64_t>(), t.numel());
}

Kokkos::RangePolicy<ks::ExecSpace> items(const kernels::LaunchSpace& space, int64_t n) {
  return Kokkos::RangePolicy<ks::ExecSpace>(space, 0, n);
}

// Rows (or columns) per work item: one on GPUs (a thread per row); on the host a block of
// about kBlockEntries entries, whose int32 column indices (8 KiB) stay in L1 while the lanes
// of the batch pass over them.
constexpr int64_t kBlockEntries = 2048;
int64_t per_item(int64_t lines, int64_t nnz) {
  if (!kokkos_uses_host_memory() || lines == 0) return 1;
  const int64_t per_line = std::max<int64_t>(1, nnz / lines);
  return std::max<int64_t>(1, kBlockEntries / per_line);
}
int64_t blocks(int64_t lines, int64_t per) { return (lines + per - 1) / per; }

// Whether the backward pass may run as one in-order sweep (FusedBackwardFunctor): host memory
// and an execution space with a single thread.
bool sequential_host() {
  return kokkos_uses_host_memory() && ks::ExecSpace().concurrency() == 1;
}

}  // namespace

void check_sparse_inputs(const char* caller, const SparsePattern& p, const torch::Tensor& values,
                         const torch::Tensor& u, const torch::Tensor& f) {
  detail::check_sparse(caller, p, values, u, "u", f, "f");
}

namespace detail {

void check_sparse(const char* caller, const SparsePattern& p, const torch::Tensor& values,
                  const torch::Tensor& u, const char* u_name, const torch::Tensor& f,
                  const char* f_name) {
  PINS_CHECK(values.defined(), caller, ": values is an undefined tensor");
  PINS_CHECK(values.dim() == 2 && values.size(1) == p.nnz() && values.size(0) >= 1, caller,
             ": values must have shape [B, nnz] = [B, ", p.nnz(), "] for the pattern ",
             p.describe(), ", got ", shape_of(values));
  PINS_CHECK(values.scalar_type() == torch::kFloat64 || values.scalar_type() == torch::kFloat32,
             caller, ": values must be float32 or float64, got ", values.scalar_type());
  PINS_CHECK(values.is_contiguous(), caller,
             ": values must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(device_matches_kokkos(values), caller, ": tensors are on ", values.device(),
             " but Kokkos runs on ", ks::ExecSpace::name(),
             "; move them with .to() to the matching device");
  PINS_CHECK(p.nnz() == 0 || p.col_idx().device() == values.device(), caller,
             ": the pattern is on ", p.col_idx().device(), " but values are on ", values.device());
  int64_t batch = -1;
  if (u.defined()) {
    check_field(caller, u_name, u, p.cols(), "cols", -1, values);
    batch = u.size(0);
  }
  if (f.defined()) check_field(caller, f_name, f, p.rows(), "rows", batch, values);
}

}  // namespace detail

namespace detail {

torch::Tensor sparse_launch_apply(const SparsePattern& p, const torch::Tensor& values,
                                  const torch::Tensor& u, const torch::Tensor& f) {
  ensure_kokkos_initialized();
  const kernels::LaunchSpace space = kernels::launch_space();
  const int64_t B = u.size(0);
  torch::Tensor out = torch::empty({B, p.rows()}, u.options());
  const int64_t vstride = values.size(0) == 1 ? 0 : p.nnz();
  const int64_t rpi = per_item(p.rows(), p.nnz());
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "pins::sparse_apply", [&] {
    ks::ApplyFunctor<scalar_t> fn{lvec(p.row_ptr()),
                                  ivec(p.col_idx()),
                                  vec<const scalar_t>(values),
                                  vec<const scalar_t>(u),
                                  vec<const scalar_t>(f),
                                  vec<scalar_t>(out),
                                  p.rows(),
                                  p.cols(),
                                  p.nnz(),
                                  B,
                                  vstride,
                                  rpi,
                                  f.defined()};
    Kokkos::parallel_for("pins::sparse_apply", items(space, blocks(p.rows(), rpi)), fn);
  });
  kernels::finish(space);
  return out;
}

torch::Tensor sparse_launch_transpose(const SparsePattern& p, const torch::Tensor& values,
                                      const torch::Tensor& v) {
  ensure_kokkos_initialized();
  const kernels::LaunchSpace space = kernels::launch_space();
  const int64_t B = v.size(0);
  torch::Tensor out = torch::empty({B, p.cols()}, v.options());
  const int64_t vstride = values.size(0) == 1 ? 0 : p.nnz();
  const int64_t cpi = per_item(p.cols(), p.nnz());
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "pins::sparse_apply_transpose", [&] {
    ks::TransposeFunctor<scalar_t> fn{lvec(p.transpose_ptr()),
                                      ivec(p.transpose_row()),
                                      lvec(p.transpose_perm()),
                                      vec<const scalar_t>(values),
                                      vec<const scalar_t>(v),
                                      vec<scalar_t>(out),
                                      p.rows(),
                                      p.cols(),
                                      p.nnz(),
                                      B,
                                      vstride,
                                      cpi};
    Kokkos::parallel_for("pins::sparse_apply_transpose", items(space, blocks(p.cols(), cpi)), fn);
  });
  kernels::finish(space);
  return out;
}

torch::Tensor sparse_launch_values_gradient(const SparsePattern& p, const torch::Tensor& g,
                                            const torch::Tensor& u, bool sum_batch) {
  ensure_kokkos_initialized();
  const kernels::LaunchSpace space = kernels::launch_space();
  const int64_t B = g.size(0);
  torch::Tensor out = torch::empty({sum_batch ? 1 : B, p.nnz()}, g.options());
  const int64_t rpi = per_item(p.rows(), p.nnz());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "pins::sparse_values_gradient", [&] {
    ks::ValuesGradientFunctor<scalar_t> fn{lvec(p.row_ptr()),
                                           ivec(p.col_idx()),
                                           vec<const scalar_t>(g),
                                           vec<const scalar_t>(u),
                                           vec<scalar_t>(out),
                                           p.rows(),
                                           p.cols(),
                                           p.nnz(),
                                           B,
                                           rpi,
                                           sum_batch};
    Kokkos::parallel_for("pins::sparse_values_gradient", items(space, blocks(p.rows(), rpi)), fn);
  });
  kernels::finish(space);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> sparse_launch_backward(const SparsePattern& p,
                                                               const torch::Tensor& values,
                                                               const torch::Tensor& g,
                                                               const torch::Tensor& u, bool want_u,
                                                               bool want_values) {
  const bool sum_batch = values.size(0) != g.size(0);
  if (!sequential_host() || (!want_u && !want_values)) {
    torch::Tensor gu, gv;
    if (want_u) gu = sparse_launch_transpose(p, values, g);
    if (want_values) gv = sparse_launch_values_gradient(p, g, u, sum_batch);
    return {gu, gv};
  }
  ensure_kokkos_initialized();
  const kernels::LaunchSpace space = kernels::launch_space();
  const int64_t B = g.size(0);
  torch::Tensor gu = want_u ? torch::zeros({B, p.cols()}, g.options()) : torch::Tensor();
  torch::Tensor gv =
      want_values ? torch::empty({sum_batch ? 1 : B, p.nnz()}, g.options()) : torch::Tensor();
  const int64_t vstride = values.size(0) == 1 ? 0 : p.nnz();
  const int64_t rpi = per_item(p.rows(), p.nnz());
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "pins::sparse_backward", [&] {
    auto run = [&](auto fn) {
      fn.row_ptr = lvec(p.row_ptr());
      fn.col = ivec(p.col_idx());
      fn.values = vec<const scalar_t>(values);
      fn.g = vec<const scalar_t>(g);
      fn.u = vec<const scalar_t>(u);
      fn.gu = vec<scalar_t>(gu);
      fn.gv = vec<scalar_t>(gv);
      fn.rows = p.rows();
      fn.cols = p.cols();
      fn.nnz = p.nnz();
      fn.batch = B;
      fn.vstride = vstride;
      fn.rows_per_item = rpi;
      fn.sum_batch = sum_batch;
      // One work item: the sweep must take its rows in order (see FusedBackwardFunctor).
      Kokkos::parallel_for("pins::sparse_backward", items(space, 1), fn);
    };
    if (want_u && want_values)
      run(ks::FusedBackwardFunctor<scalar_t, true, true>{});
    else if (want_u)
      run(ks::FusedBackwardFunctor<scalar_t, true, false>{});
    else
      run(ks::FusedBackwardFunctor<scalar_t, false, true>{});
  });
  kernels::finish(space);
  return {gu, gv};
}

}  // namespace detail

}  // namespace pins
