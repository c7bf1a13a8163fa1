// The Allen–Cahn family behind pins::Family: one backward Euler step as the equation, its
// linear part through the Darcy no-flux coefficient kernel (Kokkos, differentiable through
// pins::StencilOperator), the cubic term pointwise in LibTorch.
#include "pde/allen_cahn/allen_cahn_family.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pde/sampler_parameter.hpp"
#include "pins/core/check.hpp"

namespace pins::allen_cahn {

namespace {

class AllenCahnFamily final : public Family {
 public:
  AllenCahnFamily(double epsilon, double dt) : epsilon_(epsilon), dt_(dt) {}

  std::string name() const override { return "allen_cahn"; }
  std::string summary() const override {
    return "u_t = eps^2 div(kappa grad u) - (u^3 - u) on (0,1)^2, no flux through the "
           "boundary; one backward Euler step of dt from the state u_prev";
  }
  Stencil stencil() const override { return Stencil{2, StencilShape::kStar, 1, 1}; }
  std::vector<InputField> inputs() const override {
    return {{"kappa", FieldTransform::kLogStandardise, "cell mobility, positive"},
            {kStateInput, FieldTransform::kScale,
             "the state at the start of the step (u at the previous output time)"}};
  }
  std::string state_input() const override { return kStateInput; }
  bool nonlinear() const override { return true; }

  // (1 − dt) I + dt ε² A_N(κ): G's Jacobian at u = 0.
  OperatorPtr make_operator(const FieldMap& in) const override {
    const auto it = in.find("kappa");
    PINS_CHECK(it != in.end() && it->second.defined(),
               "allen_cahn operator: the input field 'kappa' is missing");
    const torch::Tensor& kappa = it->second;
    PINS_CHECK(kappa.dim() == 3, "allen_cahn operator: kappa must be [B, ny, nx], got ",
               kappa.sizes());
    torch::Tensor c = darcy::stencil_coefficients(kappa.contiguous(), darcy::Boundary::kNoFlux);
    c.mul_(dt_ * epsilon_ * epsilon_);
    c.select(1, 0).add_(1.0 - dt_);
    return std::make_shared<StencilOperator>(stencil(), c);
  }
  torch::Tensor rhs(const FieldMap& in) const override {
    check_inputs(in, "allen_cahn right-hand side");
    return in.at(kStateInput);
  }

  torch::Tensor residual(const FieldMap& in, const torch::Tensor& u) const override {
    check_inputs(in, "allen_cahn residual");
    const OperatorPtr A = make_operator(in);
    const torch::Tensor state = in.at(kStateInput).to(u.scalar_type());
    return A->residual(u, state) + dt_ * u.pow(3);
  }
  torch::Tensor residual_magnitude(const FieldMap& in, const torch::Tensor& u) const override {
    torch::NoGradGuard no_grad;
    check_inputs(in, "allen_cahn residual");
    const OperatorPtr A = make_operator(in);
    const torch::Tensor v = A->values().abs();
    return A->with_values(v)->apply(u.abs()) + dt_ * u.abs().pow(3) +
           in.at(kStateInput).to(u.scalar_type()).abs();
  }
  // The new state is about as large as the old one.
  double solution_scale(const FieldMap& in) const override {
    check_inputs(in, "allen_cahn solution scale");
    const double rms = std::sqrt(in.at(kStateInput).square().mean().item<double>());
    return rms > 0 ? rms : 1.0;
  }

  // sampler.epsilon and sampler.dt; absent ones keep the defaults.
  std::shared_ptr<const Family> with_parameters(
      const std::map<std::string, std::string>& p) const override {
    return family(sampler_number(p, "allen_cahn", "epsilon", kDefaultEpsilon),
                  sampler_number(p, "allen_cahn", "dt", kDefaultTimeStep));
  }

 private:
  double epsilon_, dt_;
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance =
      std::make_shared<const AllenCahnFamily>(kDefaultEpsilon, kDefaultTimeStep);
  return instance;
}

std::shared_ptr<const Family> family(double epsilon, double dt) {
  PINS_CHECK(std::isfinite(epsilon) && epsilon > 0,
             "allen_cahn: -epsilon must be a positive number, got ", epsilon);
  PINS_CHECK(std::isfinite(dt) && dt > 0, "allen_cahn: -dt (the time step) must be positive, got ",
             dt);
  return std::make_shared<const AllenCahnFamily>(epsilon, dt);
}

}  // namespace pins::allen_cahn
