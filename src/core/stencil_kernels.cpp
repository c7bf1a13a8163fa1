// Host-side launchers of the stencil kernels: validate tensors, wrap their memory in
// unmanaged Kokkos Views (no copies) and run the functors of stencil_kernels.hpp.
#include "stencil_kernels.hpp"

#include <limits>
#include <sstream>

#include "pins/core/check.hpp"
#include "pins/core/kernel_launch.hpp"
#include "pins/core/kokkos_runtime.hpp"
#include "pins/core/stencil_operator.hpp"
#include "stencil_launch.hpp"

namespace pins {

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// "ny, nx" for a 2-D stencil, and so on.
std::string grid_names(int dim) {
  return dim == 1 ? "nx" : dim == 2 ? "ny, nx" : "nz, ny, nx";
}

bool device_matches_kokkos(const torch::Tensor& t) {
  // Kokkos' default memory space decides where tensors must live.
  if (kokkos_uses_host_memory()) return t.device().is_cpu();
  return t.device().is_cuda() || t.device().is_hip();
}

// Whether a field [B, (dof,) grid…] matches the coefficients [B, K, grid…].
bool field_matches(const Stencil& s, const torch::Tensor& t, const torch::Tensor& coeffs) {
  const int64_t lead = (s.dof == 1 && t.dim() == 1 + s.dim) ? 1 : 2;
  if (t.dim() != lead + s.dim || t.size(0) != coeffs.size(0)) return false;
  if (lead == 2 && t.size(1) != s.dof) return false;
  for (int a = 0; a < s.dim; ++a)
    if (t.size(lead + a) != coeffs.size(2 + a)) return false;
  return true;
}

void check_field(const char* caller, const char* name, const Stencil& s, const torch::Tensor& t,
                 const torch::Tensor& coeffs) {
  if (!field_matches(s, t, coeffs)) {
    std::ostringstream want;
    want << '[' << coeffs.size(0);
    if (s.dof > 1) want << ", " << s.dof;
    for (int a = 0; a < s.dim; ++a) want << ", " << coeffs.size(2 + a);
    want << ']';
    throw Error(detail::concat(caller, ": ", name, " must have shape [B, ",
                               s.dof > 1 ? "dof, " : "", grid_names(s.dim), "] = ", want.str(),
                               " to match coeffs ", shape_of(coeffs), ", got ", shape_of(t)));
  }
  PINS_CHECK(t.scalar_type() == coeffs.scalar_type(), caller, ": ", name, " has dtype ",
             t.scalar_type(), " but coeffs have ", coeffs.scalar_type(),
             "; all inputs must share one dtype");
  PINS_CHECK(t.is_contiguous(), caller, ": ", name,
             " must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(t.device() == coeffs.device(), caller, ": ", name, " is on ", t.device(),
             " but coeffs are on ", coeffs.device());
}

}  // namespace

void check_stencil_coefficients(const char* caller, const Stencil& s, const torch::Tensor& coeffs) {
  s.check();
  PINS_CHECK(coeffs.defined(), caller, ": coeffs is an undefined tensor");
  const bool five = s == detail::five_point();
  PINS_CHECK(coeffs.dim() == 2 + s.dim && coeffs.size(1) == s.channels(), caller,
             ": coeffs must have shape [B, ", s.channels(), ", ", grid_names(s.dim),
             "] (stencil ", s.describe(), ": ", s.points(), " points x dof^2",
             five ? "; channels C, W, E, S, N" : "", "), got ", shape_of(coeffs));
  for (int a = 0; a < s.dim; ++a)
    PINS_CHECK(coeffs.size(2 + a) >= 1, caller, ": coeffs must describe a non-empty grid, got ",
               shape_of(coeffs));
  PINS_CHECK(coeffs.scalar_type() == torch::kFloat64 || coeffs.scalar_type() == torch::kFloat32,
             caller, ": coeffs must be float32 or float64, got ", coeffs.scalar_type());
  PINS_CHECK(coeffs.is_contiguous(), caller,
             ": coeffs must be contiguous (row-major); call .contiguous() first");
  PINS_CHECK(device_matches_kokkos(coeffs), caller, ": tensors are on ", coeffs.device(),
             " but Kokkos runs on ", kernels::ExecSpace::name(),
             "; move them with .to() to the matching device");
}

void check_stencil_inputs(const char* caller, const Stencil& s, const torch::Tensor& coeffs,
                          const torch::Tensor& u, const torch::Tensor& f) {
  check_stencil_coefficients(caller, s, coeffs);
  PINS_CHECK(u.defined(), caller, ": u is an undefined tensor");
  check_field(caller, "u", s, u, coeffs);
  if (f.defined()) check_field(caller, "f", s, f, coeffs);
}

namespace detail {

namespace {

// The 5-D geometry every kernel sees: batch, (nz, ny, nx) with 1 for missing axes.
struct Geometry {
  int64_t B, nz, ny, nx;
};

// The grid of a field [B, (dof,) grid…] of stencil s: its last s.dim axes.
Geometry geometry_of(const Stencil& s, const torch::Tensor& field) {
  Geometry g{field.size(0), 1, 1, 1};
  const int64_t d = field.dim();
  g.nx = field.size(d - 1);
  if (s.dim >= 2) g.ny = field.size(d - 2);
  if (s.dim >= 3) g.nz = field.size(d - 3);
  return g;
}

int rows_of(const Geometry& g) {
  const int64_t rows = g.B * g.nz * g.ny;
  PINS_CHECK(rows <= std::numeric_limits<int>::max() && g.nx <= std::numeric_limits<int>::max(),
             "stencil: too many grid rows (", rows, ") for one kernel launch");
  return static_cast<int>(rows);
}

template <class T>
kernels::GridView<T> grid_view(const torch::Tensor& t, int64_t channels, const Geometry& g) {
  if (!t.defined()) return {};
  return kernels::GridView<T>(t.data_ptr<std::remove_const_t<T>>(), g.B, channels, g.nz, g.ny,
                              g.nx);
}

// The stencil's offsets (3 ints per point) where the fields are, held by a LibTorch tensor for
// the launch: LibTorch's caching allocator hands out and takes back device memory in stream
// order, so neither the allocation nor the free synchronises a GPU, as a Kokkos View of its own
// would (cudaMalloc, cudaFree); the copy in waits for LibTorch's stream at most. The tensor
// outlives the queued kernel safely: memory freed on a stream is reused only by work queued
// after it on that stream (on the host, finish() fences before the launcher returns).
struct Offsets {
  torch::Tensor storage;
  kernels::OffsetView view;
};
Offsets offsets_on(const Stencil& s, const torch::Device& device) {
  const auto o = s.offsets();
  torch::Tensor host = torch::empty({int64_t(3 * o.size())}, torch::kInt32);
  int* h = host.data_ptr<int>();
  for (size_t p = 0; p < o.size(); ++p)
    for (int a = 0; a < 3; ++a) h[3 * p + a] = o[p][a];
  Offsets out;
  out.storage = host.to(device, /*non_blocking=*/true);
  out.view = kernels::OffsetView(out.storage.data_ptr<int>(), out.storage.numel());
  return out;
}

// Which kernel a stencil takes.
enum class Path { kStar2D, kBox2D, kStar3D, kGeneric };
Path path_of(const Stencil& s) {
  if (s.dof != 1 || s.width != 1) return Path::kGeneric;
  if (s.dim == 2) return s.shape == StencilShape::kStar ? Path::kStar2D : Path::kBox2D;
  if (s.dim == 3 && s.shape == StencilShape::kStar) return Path::kStar3D;
  return Path::kGeneric;
}

template <class T, class G>
void fixed_apply(const kernels::LaunchSpace& space, const torch::Tensor& c, const torch::Tensor& u,
                 const torch::Tensor& f, torch::Tensor& out, const Geometry& g) {
  kernels::FixedApply<T, G> fn{grid_view<const T>(c, G::P, g),
                               grid_view<const T>(u, 1, g),
                               grid_view<const T>(f, 1, g),
                               grid_view<T>(out, 1, g),
                               int(g.nz), int(g.ny), int(g.nx), f.defined()};
  Kokkos::parallel_for("pins::stencil_apply", kernels::row_policy(space, rows_of(g)), fn);
}

template <class T>
void apply_typed(const Stencil& s, const torch::Tensor& c, const torch::Tensor& u,
                 const torch::Tensor& f, torch::Tensor& out, const Geometry& g) {
  const kernels::LaunchSpace space = kernels::launch_space();
  switch (path_of(s)) {
    case Path::kStar2D:
      fixed_apply<T, kernels::Star2D>(space, c, u, f, out, g);
      break;
    case Path::kBox2D:
      fixed_apply<T, kernels::Box2D>(space, c, u, f, out, g);
      break;
    case Path::kStar3D:
      fixed_apply<T, kernels::Star3D>(space, c, u, f, out, g);
      break;
    case Path::kGeneric: {
      const Offsets off = offsets_on(s, out.device());
      kernels::GenericApply<T> fn{grid_view<const T>(c, s.channels(), g),
                                  grid_view<const T>(u, s.dof, g),
                                  grid_view<const T>(f, s.dof, g),
                                  grid_view<T>(out, s.dof, g),
                                  off.view,
                                  s.points(),
                                  s.dof,
                                  int(g.nz),
                                  int(g.ny),
                                  int(g.nx),
                                  f.defined()};
      Kokkos::parallel_for("pins::stencil_apply_generic", kernels::row_policy(space, rows_of(g)),
                           fn);
      break;
    }
  }
  kernels::finish(space);
}

template <class T, class G>
void fixed_backward(const kernels::LaunchSpace& space, const torch::Tensor& c,
                    const torch::Tensor& u, const torch::Tensor& gr, torch::Tensor* gu,
                    torch::Tensor* gc, const Geometry& g) {
  kernels::FixedBackward<T, G> fn{grid_view<const T>(c, G::P, g),
                                  grid_view<const T>(u, 1, g),
                                  grid_view<const T>(gr, 1, g),
                                  gu ? grid_view<T>(*gu, 1, g) : kernels::GridView<T>(),
                                  gc ? grid_view<T>(*gc, G::P, g) : kernels::GridView<T>(),
                                  int(g.nz), int(g.ny), int(g.nx), gu != nullptr, gc != nullptr};
  Kokkos::parallel_for("pins::stencil_backward", kernels::row_policy(space, rows_of(g)), fn);
}

template <class T>
void backward_typed(const Stencil& s, const torch::Tensor& c, const torch::Tensor& u,
                    const torch::Tensor& gr, torch::Tensor* gu, torch::Tensor* gc,
                    const Geometry& g) {
  const kernels::LaunchSpace space = kernels::launch_space();
  switch (path_of(s)) {
    case Path::kStar2D:
      fixed_backward<T, kernels::Star2D>(space, c, u, gr, gu, gc, g);
      break;
    case Path::kBox2D:
      fixed_backward<T, kernels::Box2D>(space, c, u, gr, gu, gc, g);
      break;
    case Path::kStar3D:
      fixed_backward<T, kernels::Star3D>(space, c, u, gr, gu, gc, g);
      break;
    case Path::kGeneric: {
      const Offsets off = offsets_on(s, gr.device());
      kernels::GenericBackward<T> fn{
          grid_view<const T>(c, s.channels(), g),
          grid_view<const T>(u, s.dof, g),
          grid_view<const T>(gr, s.dof, g),
          gu ? grid_view<T>(*gu, s.dof, g) : kernels::GridView<T>(),
          gc ? grid_view<T>(*gc, s.channels(), g) : kernels::GridView<T>(),
          off.view,
          s.points(),
          s.dof,
          int(g.nz),
          int(g.ny),
          int(g.nx),
          gu != nullptr,
          gc != nullptr};
      Kokkos::parallel_for("pins::stencil_backward_generic", kernels::row_policy(space, rows_of(g)),
                           fn);
      break;
    }
  }
  kernels::finish(space);
}

}  // namespace

torch::Tensor launch_apply(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u,
                           const torch::Tensor& f) {
  ensure_kokkos_initialized();
  const Geometry g = geometry_of(s, u);
  torch::Tensor out = torch::empty_like(u);
  if (coeffs.scalar_type() == torch::kFloat64)
    apply_typed<double>(s, coeffs, u, f, out, g);
  else
    apply_typed<float>(s, coeffs, u, f, out, g);
  return out;
}

void launch_backward(const Stencil& s, const torch::Tensor& coeffs, const torch::Tensor& u,
                     const torch::Tensor& g, torch::Tensor* grad_u, torch::Tensor* grad_c) {
  ensure_kokkos_initialized();
  const Geometry geo = geometry_of(s, g);
  if (g.scalar_type() == torch::kFloat64)
    backward_typed<double>(s, coeffs, u, g, grad_u, grad_c, geo);
  else
    backward_typed<float>(s, coeffs, u, g, grad_u, grad_c, geo);
}

}  // namespace detail

torch::Tensor stencil_apply_transpose(const Stencil& s, const torch::Tensor& coeffs,
                                      const torch::Tensor& v) {
  check_stencil_inputs("pins::stencil_apply_transpose", s, coeffs, v);
  torch::Tensor out = torch::empty_like(v);
  detail::launch_backward(s, coeffs, {}, v, &out, nullptr);
  return out;
}

torch::Tensor stencil_coefficient_gradient(const Stencil& s, const torch::Tensor& g,
                                           const torch::Tensor& u) {
  s.check();
  PINS_CHECK(g.defined() && g.dim() >= 1 + s.dim,
             "pins::stencil_coefficient_gradient: g must have shape [B, ", s.dof > 1 ? "dof, " : "",
             grid_names(s.dim), "], got ", g.defined() ? shape_of(g) : "an undefined tensor");
  std::vector<int64_t> shape{g.size(0), s.channels()};
  for (int a = 0; a < s.dim; ++a) shape.push_back(g.size(g.dim() - s.dim + a));
  torch::Tensor out = torch::empty(shape, g.options());
  check_stencil_inputs("pins::stencil_coefficient_gradient", s, out, u, g);
  detail::launch_backward(s, {}, u, g, nullptr, &out);
  return out;
}

}  // namespace pins
