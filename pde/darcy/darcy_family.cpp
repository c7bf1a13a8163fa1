// The Darcy family behind pins::Family: κ → its 5-point stencil operator, f → the rhs.
#include "pde/darcy/darcy_family.hpp"

#include <torch/torch.h>

#include <cmath>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pins/core/check.hpp"

namespace pins::darcy {

namespace {

class DarcyFamily final : public Family {
 public:
  std::string name() const override { return "darcy"; }
  std::string summary() const override {
    return "-div(kappa grad u) = f on (0,1)^2, u = 0 on the boundary";
  }
  Stencil stencil() const override { return Stencil{2, StencilShape::kStar, 1, 1}; }
  std::vector<InputField> inputs() const override {
    return {{"kappa", FieldTransform::kLogStandardise, "cell conductivity, positive"},
            {"f", FieldTransform::kScale, "source term"}};
  }

  OperatorPtr make_operator(const FieldMap& in) const override {
    // The operator depends on κ alone; f is not needed here.
    const auto it = in.find("kappa");
    PINS_CHECK(it != in.end() && it->second.defined(),
               "darcy operator: the input field 'kappa' is missing");
    const torch::Tensor& kappa = it->second;
    PINS_CHECK(kappa.dim() == 3, "darcy operator: kappa must be [B, ny, nx], got ", kappa.sizes());
    return std::make_shared<StencilOperator>(stencil(), stencil_coefficients(kappa.contiguous()));
  }

  torch::Tensor rhs(const FieldMap& in) const override {
    check_inputs(in, "darcy right-hand side");
    return in.at("f");
  }

  // rms(f) / (2π² mean κ): the size of the smooth solution of −∇·(κ∇u) = f on the unit
  // square (the lowest eigenvalue of −Δ there is 2π²).
  double solution_scale(const FieldMap& in) const override {
    check_inputs(in, "darcy solution scale");
    const double f_rms = std::sqrt(in.at("f").square().mean().item<double>());
    return f_rms / (2 * M_PI * M_PI * in.at("kappa").mean().item<double>());
  }
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance = std::make_shared<const DarcyFamily>();
  return instance;
}

}  // namespace pins::darcy
