// The Darcy families behind pins::Family: κ → its 5-point (darcy) or 7-point (darcy3d)
// stencil operator, f → the rhs.
#include "pde/darcy/darcy_family.hpp"

#include <torch/torch.h>

#include <cmath>

#include "pde/darcy/darcy_coefficients.hpp"
#include "pins/core/check.hpp"

namespace pins::darcy {

namespace {

class DarcyFamily final : public Family {
 public:
  explicit DarcyFamily(int dim) : dim_(dim) {}
  std::string name() const override { return dim_ == 3 ? "darcy3d" : "darcy"; }
  std::string summary() const override {
    return dim_ == 3 ? "-div(kappa grad u) = f on (0,1)^3, u = 0 on the boundary"
                     : "-div(kappa grad u) = f on (0,1)^2, u = 0 on the boundary";
  }
  Stencil stencil() const override { return Stencil{dim_, StencilShape::kStar, 1, 1}; }
  std::vector<InputField> inputs() const override {
    return {{"kappa", FieldTransform::kLogStandardise, "cell conductivity, positive"},
            {"f", FieldTransform::kScale, "source term"}};
  }

  OperatorPtr make_operator(const FieldMap& in) const override {
    // The operator depends on κ alone; f is not needed here.
    const auto it = in.find("kappa");
    PINS_CHECK(it != in.end() && it->second.defined(), name(),
               " operator: the input field 'kappa' is missing");
    const torch::Tensor& kappa = it->second;
    PINS_CHECK(kappa.dim() == dim_ + 1, name(), " operator: kappa must be ",
               dim_ == 3 ? "[B, nz, ny, nx]" : "[B, ny, nx]", ", got ", kappa.sizes());
    return std::make_shared<StencilOperator>(stencil(), stencil_coefficients(kappa.contiguous()));
  }

  torch::Tensor rhs(const FieldMap& in) const override {
    check_inputs(in, "darcy right-hand side");
    return in.at("f");
  }

  // rms(f) / (d π² mean κ): the size of the smooth solution of −∇·(κ∇u) = f on the unit
  // square or cube (the lowest eigenvalue of −Δ there is d π²).
  double solution_scale(const FieldMap& in) const override {
    check_inputs(in, name() + " solution scale");
    const double f_rms = std::sqrt(in.at("f").square().mean().item<double>());
    return f_rms / (dim_ * M_PI * M_PI * in.at("kappa").mean().item<double>());
  }

 private:
  int dim_;
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance = std::make_shared<const DarcyFamily>(2);
  return instance;
}

std::shared_ptr<const Family> family_3d() {
  static const auto instance = std::make_shared<const DarcyFamily>(3);
  return instance;
}

}  // namespace pins::darcy
