// The Gray–Scott family behind pins::Family: one backward Euler step as the equation, its
// linear part as a dof-2 stencil built from the Darcy no-flux kernel (κ = 1), the reaction
// u v² pointwise in LibTorch (differentiable).
#include "pde/gray_scott/gray_scott_family.hpp"

#include <torch/torch.h>

#include <cmath>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/sampler_parameter.hpp"
#include "pins/core/check.hpp"

namespace pins::gray_scott {

namespace {

class GrayScottFamily final : public Family {
 public:
  explicit GrayScottFamily(const Parameters& p) : p_(p) {}

  std::string name() const override { return "gray_scott"; }
  std::string summary() const override {
    return "u_t = Du lap u - u v^2 + F(1 - u), v_t = Dv lap v + u v^2 - (F + k) v on (0,1)^2, "
           "no flux through the boundary; one backward Euler step of dt from the state w_prev";
  }
  Stencil stencil() const override { return Stencil{2, StencilShape::kStar, 1, 2}; }
  std::vector<InputField> inputs() const override {
    InputField state{kStateInput, FieldTransform::kScale,
                     "the state (u, v) at the start of the step (w at the previous output time)"};
    state.components = 2;
    return {{kFeedInput, FieldTransform::kScale, "feed rate F(x), positive"}, state};
  }
  std::string state_input() const override { return kStateInput; }
  bool nonlinear() const override { return true; }

  // G's Jacobian at w = 0: the two diffusion–decay blocks, no coupling between the fields.
  OperatorPtr make_operator(const FieldMap& in) const override {
    const torch::Tensor F = feed(in, "gray_scott operator");
    const torch::Tensor c =
        darcy::stencil_coefficients(torch::ones_like(F).contiguous(), darcy::Boundary::kNoFlux);
    const int64_t points = c.size(1);
    const torch::Tensor zero = torch::zeros_like(F);
    std::vector<torch::Tensor> k;  // channel (p·2 + r)·2 + c
    for (int64_t p = 0; p < points; ++p) {
      torch::Tensor uu = (p_.dt * p_.du) * c.select(1, p);
      torch::Tensor vv = (p_.dt * p_.dv) * c.select(1, p);
      if (p == 0) {  // the centre carries the decay terms
        uu = uu + 1.0 + p_.dt * F;
        vv = vv + 1.0 + p_.dt * (F + p_.kill);
      }
      k.insert(k.end(), {uu, zero, zero, vv});
    }
    return std::make_shared<StencilOperator>(stencil(), torch::stack(k, 1));
  }
  torch::Tensor rhs(const FieldMap& in) const override {
    const torch::Tensor F = feed(in, "gray_scott right-hand side");
    const torch::Tensor w = state(in, "gray_scott right-hand side").to(F.scalar_type());
    return torch::stack({w.select(1, 0) + p_.dt * F, w.select(1, 1)}, 1);
  }

  torch::Tensor residual(const FieldMap& in, const torch::Tensor& w) const override {
    check_inputs(in, "gray_scott residual");
    const OperatorPtr A = make_operator(in);
    const torch::Tensor b = rhs(in).to(w.scalar_type());
    const torch::Tensor r = p_.dt * w.select(1, 0) * w.select(1, 1).square();
    return A->residual(w, b) + torch::stack({r, -r}, 1);
  }
  torch::Tensor residual_magnitude(const FieldMap& in, const torch::Tensor& w) const override {
    torch::NoGradGuard no_grad;
    check_inputs(in, "gray_scott residual");
    const OperatorPtr A = make_operator(in);
    const torch::Tensor r = p_.dt * (w.select(1, 0) * w.select(1, 1).square()).abs();
    return A->with_values(A->values().abs())->apply(w.abs()) + torch::stack({r, r}, 1) +
           rhs(in).to(w.scalar_type()).abs();
  }
  // The new state is about as large as the old one.
  double solution_scale(const FieldMap& in) const override {
    const double rms =
        std::sqrt(state(in, "gray_scott solution scale").square().mean().item<double>());
    return rms > 0 ? rms : 1.0;
  }

  // sampler.du, dv, kill and dt; absent ones keep the defaults.
  std::shared_ptr<const Family> with_parameters(
      const std::map<std::string, std::string>& p) const override {
    auto number = [&](const char* name, double fallback) {
      return sampler_number(p, "gray_scott", name, fallback);
    };
    return family(Parameters{number("du", kDefaultDu), number("dv", kDefaultDv),
                             number("kill", kDefaultKill), number("dt", kDefaultTimeStep)});
  }

 private:
  static const torch::Tensor& feed(const FieldMap& in, const char* what) {
    const auto it = in.find(kFeedInput);
    PINS_CHECK(it != in.end() && it->second.defined(), what, ": the input field 'feed' is missing");
    PINS_CHECK(it->second.dim() == 3, what, ": feed must be [B, ny, nx], got ", it->second.sizes());
    return it->second;
  }
  static const torch::Tensor& state(const FieldMap& in, const char* what) {
    const auto it = in.find(kStateInput);
    PINS_CHECK(it != in.end() && it->second.defined(), what,
               ": the state input 'w_prev' is missing");
    PINS_CHECK(it->second.dim() == 4 && it->second.size(1) == 2, what,
               ": w_prev must be [B, 2, ny, nx], got ", it->second.sizes());
    return it->second;
  }

  Parameters p_;
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance = std::make_shared<const GrayScottFamily>(Parameters{});
  return instance;
}

std::shared_ptr<const Family> family(const Parameters& p) {
  auto positive = [](double x) { return std::isfinite(x) && x > 0; };
  PINS_CHECK(positive(p.du), "gray_scott: -gs_du (the diffusivity of u) must be positive, got ",
             p.du);
  PINS_CHECK(positive(p.dv), "gray_scott: -gs_dv (the diffusivity of v) must be positive, got ",
             p.dv);
  PINS_CHECK(positive(p.kill), "gray_scott: -gs_kill (the kill rate k) must be positive, got ",
             p.kill);
  PINS_CHECK(positive(p.dt), "gray_scott: -dt (the time step) must be positive, got ", p.dt);
  return std::make_shared<const GrayScottFamily>(p);
}

}  // namespace pins::gray_scott
