// The nonlinear Darcy residual: a Kokkos functor (forward F, the magnitude of its terms, and
// the adjoint Jᵀ g, one cell per iteration), its autograd Function, and a serial reference.
#include "pde/nonlinear_darcy/nonlinear_darcy_kernels.hpp"

#include <torch/autograd.h>
#include <torch/torch.h>
#include <Kokkos_Core.hpp>

#include "pde/darcy/darcy_stencil.hpp"
#include "pins/core/check.hpp"
#include "pins/core/kernel_launch.hpp"
#include "pins/core/kokkos_runtime.hpp"

namespace pins::nonlinear_darcy {

namespace {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

enum Mode { kResidual, kMagnitude, kAdjoint };

// The four faces of cell (i, j) in the order of the linear Darcy rows (w, e, s, n): the
// neighbour's offsets and which 1/h² the face takes.
struct Face {
  int di, dj;
  bool x;
};
KOKKOS_INLINE_FUNCTION Face face_of(int d) {
  constexpr int off[4][2] = {{0, -1}, {0, 1}, {-1, 0}, {1, 0}};
  return Face{off[d][0], off[d][1], d < 2};
}

// mode kResidual: out = F(u) (a = f); kMagnitude: out = Σ t k̄ (|u_m| + |u_n|) + |f| (a = f);
// kAdjoint: out = Jᵀ g (a = g).
template <class T, int mode>
struct ResidualFunctor {
  using In = Kokkos::View<const T***, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged>;
  using Out = Kokkos::View<T***, Kokkos::LayoutRight, ExecSpace::memory_space, Unmanaged>;
  In kappa, u, a;
  Out out;
  Conductivity c;
  int ny, nx;
  double inv_hx2, inv_hy2;

  KOKKOS_INLINE_FUNCTION void operator()(const int b, const int i, const int j) const {
    const double km = kappa(b, i, j), um = u(b, i, j);
    double acc = 0;
    for (int d = 0; d < 4; ++d) {
      const Face fc = face_of(d);
      const int ii = i + fc.di, jj = j + fc.dj;
      const bool in = ii >= 0 && ii < ny && jj >= 0 && jj < nx;
      // The transmissibility exactly as the linear Darcy rows compute it.
      const double t = (in ? darcy::interior_face_coefficient(km, kappa(b, ii, jj))
                           : darcy::boundary_face_coefficient(km)) *
                       (fc.x ? inv_hx2 : inv_hy2);
      const double un = in ? double(u(b, ii, jj)) : 0.0;
      if (mode == kResidual) acc += face_flux(c, t, um, un);
      if (mode == kMagnitude) acc += face_flux_magnitude(c, t, um, un);
      if (mode == kAdjoint) {
        const double gn = in ? double(a(b, ii, jj)) : 0.0;
        acc += (double(a(b, i, j)) - gn) * face_flux_dm(c, t, um, un);
      }
    }
    if (mode == kResidual) acc -= a(b, i, j);
    if (mode == kMagnitude) acc += std::abs(double(a(b, i, j)));
    out(b, i, j) = T(acc);
  }
};

void check_field(const char* caller, const char* name, const torch::Tensor& t,
                 const torch::Tensor& like) {
  PINS_CHECK(t.defined(), caller, ": ", name, " is an undefined tensor");
  PINS_CHECK(t.dim() == 3, caller, ": ", name, " must have shape [B, ny, nx], got ", t.sizes());
  PINS_CHECK(t.sizes() == like.sizes(), caller, ": ", name, " must have the shape of kappa ",
             like.sizes(), ", got ", t.sizes());
  PINS_CHECK(t.scalar_type() == like.scalar_type(), caller, ": ", name, " must have kappa's dtype ",
             like.scalar_type(), ", got ", t.scalar_type());
  PINS_CHECK(t.device() == like.device(), caller, ": ", name, " is on ", t.device(), ", kappa on ",
             like.device());
}

void check_inputs(const char* caller, const torch::Tensor& kappa, const torch::Tensor& a,
                  const char* a_name, const torch::Tensor& u) {
  PINS_CHECK(kappa.defined() && kappa.dim() == 3, caller,
             ": kappa must have shape [B, ny, nx], got ",
             kappa.defined() ? kappa.sizes() : torch::IntArrayRef{});
  PINS_CHECK(kappa.scalar_type() == torch::kFloat64 || kappa.scalar_type() == torch::kFloat32,
             caller, ": kappa must be float32 or float64, got ", kappa.scalar_type());
  PINS_CHECK(kappa.device().is_cpu() == kokkos_uses_host_memory(), caller, ": kappa is on ",
             kappa.device(), " but Kokkos runs on ", ExecSpace::name());
  check_field(caller, a_name, a, kappa);
  check_field(caller, "u", u, kappa);
}

template <class T, int mode>
torch::Tensor launch(const Conductivity& c, const torch::Tensor& kappa_in,
                     const torch::Tensor& a_in, const torch::Tensor& u_in) {
  ensure_kokkos_initialized();
  // Upstream gradients may be broadcast views: the kernel needs contiguous memory.
  const torch::Tensor kappa = kappa_in.contiguous(), a = a_in.contiguous(), u = u_in.contiguous();
  const int B = int(kappa.size(0)), ny = int(kappa.size(1)), nx = int(kappa.size(2));
  torch::Tensor out = torch::empty_like(kappa);
  using F = ResidualFunctor<T, mode>;
  F fn{typename F::In(kappa.data_ptr<T>(), B, ny, nx),
       typename F::In(u.data_ptr<T>(), B, ny, nx),
       typename F::In(a.data_ptr<T>(), B, ny, nx),
       typename F::Out(out.data_ptr<T>(), B, ny, nx),
       c,
       ny,
       nx,
       double(nx) * nx,
       double(ny) * ny};
  const kernels::LaunchSpace space = kernels::launch_space();
  Kokkos::parallel_for(
      "pins::nonlinear_darcy::residual",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<3>>(space, {0, 0, 0}, {B, ny, nx}), fn);
  kernels::finish(space);
  return out;
}

template <int mode>
torch::Tensor dispatch(const Conductivity& c, const torch::Tensor& kappa, const torch::Tensor& a,
                       const torch::Tensor& u) {
  return kappa.scalar_type() == torch::kFloat64 ? launch<double, mode>(c, kappa, a, u)
                                                : launch<float, mode>(c, kappa, a, u);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct ResidualFunction : public torch::autograd::Function<ResidualFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& kappa,
                               const torch::Tensor& f, const torch::Tensor& u, int64_t kind,
                               double beta) {
    ctx->saved_data["kind"] = kind;
    ctx->saved_data["beta"] = beta;
    ctx->save_for_backward({kappa, u});
    return dispatch<kResidual>(Conductivity{int(kind), beta}, kappa, f, u);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Conductivity c{int(ctx->saved_data["kind"].toInt()), ctx->saved_data["beta"].toDouble()};
    const torch::Tensor& g = grad_outputs[0];
    torch::Tensor grad_u, grad_f;
    if (ctx->needs_input_grad(2)) grad_u = dispatch<kAdjoint>(c, saved[0], g, saved[1]);
    if (ctx->needs_input_grad(1)) grad_f = -g;
    // Inputs: kappa (not differentiated), f, u, kind, beta.
    return {torch::Tensor(), grad_f, grad_u, torch::Tensor(), torch::Tensor()};
  }
};

// Plain loops over float64 CPU copies: the definition written out once more, for tests.
template <int mode>
torch::Tensor reference(const Conductivity& c, const torch::Tensor& kappa_in,
                        const torch::Tensor& a_in, const torch::Tensor& u_in) {
  const auto cpu = [](const torch::Tensor& t) {
    return t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  };
  const torch::Tensor kappa = cpu(kappa_in), a = cpu(a_in), u = cpu(u_in);
  torch::Tensor out = torch::zeros_like(kappa);
  const auto K = kappa.accessor<double, 3>(), A = a.accessor<double, 3>(),
             U = u.accessor<double, 3>();
  auto O = out.accessor<double, 3>();
  const int64_t B = kappa.size(0), ny = kappa.size(1), nx = kappa.size(2);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < ny; ++i)
      for (int64_t j = 0; j < nx; ++j) {
        double acc = 0;
        const int64_t nb[4][2] = {{i, j - 1}, {i, j + 1}, {i - 1, j}, {i + 1, j}};
        for (int d = 0; d < 4; ++d) {
          const int64_t ii = nb[d][0], jj = nb[d][1];
          const bool in = ii >= 0 && ii < ny && jj >= 0 && jj < nx;
          const double h2 = d < 2 ? double(nx) * nx : double(ny) * ny;
          const double km = K[b][i][j];
          const double t = (in ? 2.0 * km * K[b][ii][jj] / (km + K[b][ii][jj]) : 2.0 * km) * h2;
          const double um = U[b][i][j], un = in ? U[b][ii][jj] : 0.0;
          const double kbar = 0.5 * (c.k(um) + c.k(un));
          if (mode == kResidual) acc += t * kbar * (um - un);
          if (mode == kAdjoint) {
            const double gn = in ? A[b][ii][jj] : 0.0;
            acc += (A[b][i][j] - gn) * t * (kbar + 0.5 * c.dk(um) * (um - un));
          }
        }
        O[b][i][j] = mode == kResidual ? acc - A[b][i][j] : acc;
      }
  return out;
}

void check_conductivity(const char* caller, const Conductivity& c) {
  PINS_CHECK(c.kind == 0 || c.kind == 1, caller,
             ": the nonlinearity must be 0 (quadratic) or 1 "
             "(exp), got ",
             c.kind);
  PINS_CHECK(std::isfinite(c.beta), caller, ": beta must be finite, got ", c.beta);
}

}  // namespace

torch::Tensor residual(const Conductivity& k, const torch::Tensor& kappa, const torch::Tensor& f,
                       const torch::Tensor& u) {
  check_conductivity("pins::nonlinear_darcy::residual", k);
  check_inputs("pins::nonlinear_darcy::residual", kappa, f, "f", u);
  return ResidualFunction::apply(kappa, f, u, int64_t(k.kind), k.beta);
}

torch::Tensor residual_adjoint(const Conductivity& k, const torch::Tensor& kappa,
                               const torch::Tensor& u, const torch::Tensor& g) {
  check_conductivity("pins::nonlinear_darcy::residual_adjoint", k);
  check_inputs("pins::nonlinear_darcy::residual_adjoint", kappa, g, "g", u);
  torch::NoGradGuard no_grad;
  return dispatch<kAdjoint>(k, kappa, g, u);
}

torch::Tensor residual_magnitude(const Conductivity& k, const torch::Tensor& kappa,
                                 const torch::Tensor& f, const torch::Tensor& u) {
  check_conductivity("pins::nonlinear_darcy::residual_magnitude", k);
  check_inputs("pins::nonlinear_darcy::residual_magnitude", kappa, f, "f", u);
  torch::NoGradGuard no_grad;
  return dispatch<kMagnitude>(k, kappa, f, u);
}

torch::Tensor residual_reference(const Conductivity& k, const torch::Tensor& kappa,
                                 const torch::Tensor& f, const torch::Tensor& u) {
  check_inputs("pins::nonlinear_darcy::residual_reference", kappa, f, "f", u);
  return reference<kResidual>(k, kappa, f, u);
}

torch::Tensor residual_adjoint_reference(const Conductivity& k, const torch::Tensor& kappa,
                                         const torch::Tensor& u, const torch::Tensor& g) {
  check_inputs("pins::nonlinear_darcy::residual_adjoint_reference", kappa, g, "g", u);
  return reference<kAdjoint>(k, kappa, g, u);
}

}  // namespace pins::nonlinear_darcy
