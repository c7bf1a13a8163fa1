// The nonlinear Darcy family behind pins::Family: F(u) by the Kokkos residual kernel, the
// linear Darcy operator of κ (k frozen at 1) for scales, f the right-hand side.
#include "pde/nonlinear_darcy/nonlinear_darcy_family.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "pde/darcy/darcy_family.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_kernels.hpp"
#include "pins/core/check.hpp"

namespace pins::nonlinear_darcy {

Conductivity make_conductivity(const std::string& name, double beta) {
  PINS_CHECK(name == "quadratic" || name == "exp",
             "-nonlinearity must be quadratic (k(u) = 1 + u^2) or exp (k(u) = exp(beta u)), got '",
             name, "'");
  PINS_CHECK(std::isfinite(beta), "-nonlinearity_beta must be finite, got ", beta);
  return Conductivity{name == "exp" ? 1 : 0, beta};
}

std::string nonlinearity_name(const Conductivity& k) {
  return k.kind == 1 ? "exp" : "quadratic";
}

std::string describe(const Conductivity& k) {
  if (k.kind == 0) return "k(u) = 1 + u^2";
  char buf[64];
  std::snprintf(buf, sizeof buf, "k(u) = exp(%.17g u)", k.beta);
  return buf;
}

namespace {

class NonlinearDarcyFamily final : public Family {
 public:
  explicit NonlinearDarcyFamily(const Conductivity& k) : k_(k) {}
  std::string name() const override { return "nonlinear_darcy"; }
  std::string summary() const override {
    return "-div(kappa k(u) grad u) = f on (0,1)^2, u = 0 on the boundary, k(u) = 1 + u^2 "
           "or exp(beta u)";
  }
  Stencil stencil() const override { return Stencil{2, StencilShape::kStar, 1, 1}; }
  std::vector<InputField> inputs() const override { return darcy::family()->inputs(); }

  // The linear Darcy operator A(κ): k frozen at k(0) = 1.
  OperatorPtr make_operator(const FieldMap& in) const override {
    return darcy::family()->make_operator(in);
  }
  torch::Tensor rhs(const FieldMap& in) const override { return darcy::family()->rhs(in); }
  // The linear problem's closed-form size: an over-estimate for k ≥ 1 (quadratic, exp with
  // β u ≥ 0), a rough one otherwise; a scale, not a prediction.
  double solution_scale(const FieldMap& in) const override {
    return darcy::family()->solution_scale(in);
  }

  bool nonlinear() const override { return true; }

  // The Picard operator at u: Darcy's with κ k(u) per cell, k frozen at the answer. It
  // leaves out the Jacobian's k'(u) ∇u term, which is small where ∇u is; enough for an
  // error estimate's size (pins/core/error_estimate.hpp), not for Newton.
  OperatorPtr linearised_operator(const FieldMap& in, const torch::Tensor& u) const override {
    check_inputs(in, "nonlinear_darcy linearised operator");
    const torch::Tensor v = u.detach().to(torch::kFloat64).reshape(in.at("kappa").sizes());
    const torch::Tensor k = k_.kind == 0 ? 1 + v.square() : torch::exp(k_.beta * v);
    FieldMap frozen = in;
    frozen["kappa"] = (in.at("kappa").to(torch::kFloat64) * k).to(in.at("kappa").scalar_type());
    return darcy::family()->make_operator(frozen);
  }

  torch::Tensor residual(const FieldMap& in, const torch::Tensor& u) const override {
    check_inputs(in, "nonlinear_darcy residual");
    return nonlinear_darcy::residual(k_, in.at("kappa").contiguous(), in.at("f").contiguous(), u);
  }
  torch::Tensor residual_magnitude(const FieldMap& in, const torch::Tensor& u) const override {
    check_inputs(in, "nonlinear_darcy residual");
    return nonlinear_darcy::residual_magnitude(k_, in.at("kappa").contiguous(),
                                               in.at("f").contiguous(), u.contiguous());
  }

  // sampler.nonlinearity and sampler.nonlinearity_beta; absent ones keep the defaults.
  std::shared_ptr<const Family> with_parameters(
      const std::map<std::string, std::string>& p) const override {
    const auto kind = p.find("nonlinearity");
    const auto beta = p.find("nonlinearity_beta");
    double b = 1.0;
    if (beta != p.end()) {
      try {
        b = std::stod(beta->second);
      } catch (const std::exception&) {
        throw Error("nonlinear_darcy: sampler.nonlinearity_beta must be a number, got '" +
                    beta->second + "'");
      }
    }
    return family(make_conductivity(kind == p.end() ? "quadratic" : kind->second, b));
  }

 private:
  Conductivity k_;
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance = std::make_shared<const NonlinearDarcyFamily>(Conductivity{});
  return instance;
}

std::shared_ptr<const Family> family(const Conductivity& k) {
  return std::make_shared<const NonlinearDarcyFamily>(k);
}

}  // namespace pins::nonlinear_darcy
