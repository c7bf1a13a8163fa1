// darcy_fem behind pins::Family: κ per cell → the P1/Q1 stiffness matrix on the mesh's
// points, f per cell → the load vector.

#include "pde/darcy_fem/darcy_fem_family.hpp"

#include <torch/torch.h>

#include "pde/darcy_fem/fem_assembly.hpp"
#include "pins/core/check.hpp"

namespace pins::darcy_fem {

namespace {

class DarcyFemFamily final : public Family {
 public:
  DarcyFemFamily() = default;
  DarcyFemFamily(std::shared_ptr<const Mesh> mesh, std::shared_ptr<const FemAssembly> assembly)
      : mesh_(std::move(mesh)), assembly_(std::move(assembly)) {}

  std::string name() const override { return "darcy_fem"; }
  std::string summary() const override {
    return "-div(kappa grad u) = f on a 2-D mesh (DMPlex, P1 triangles or Q1 quadrilaterals), "
           "kappa and f per cell, u = 0 on the boundary";
  }
  Stencil stencil() const override {
    throw Error(
        "darcy_fem lives on an unstructured mesh: it has no stencil (its operator is "
        "sparse)");
  }
  bool on_mesh() const override { return true; }
  int dimension() const override { return 2; }
  int dof() const override { return 1; }
  std::string operator_description() const override {
    return "sparse: P1/Q1 finite elements on the mesh, CSR over its points";
  }
  std::vector<InputField> inputs() const override {
    return {{"kappa", FieldTransform::kLogStandardise, "conductivity per cell, positive", 1, true},
            {"f", FieldTransform::kScale, "source term per cell", 1, true}};
  }

  std::shared_ptr<const Family> with_mesh(std::shared_ptr<const Mesh> mesh) const override {
    PINS_CHECK(mesh, "darcy_fem: with_mesh needs a mesh");
    // The assembly's geometry depends on the mesh alone; a family bound to it is cheap to
    // keep per dataset.
    auto assembly = std::make_shared<const FemAssembly>(assemble(*mesh));
    return std::make_shared<const DarcyFemFamily>(std::move(mesh), std::move(assembly));
  }

  std::shared_ptr<const Mesh> mesh() const override { return mesh_; }

  // The ∫φ_a-weighted mean of the cells around each point: the load vector's weights,
  // normalised (for P1 on triangles, the area-weighted mean of the incident cells).
  torch::Tensor to_points(const torch::Tensor& x) const override {
    const FemAssembly& a = bound("point features");
    PINS_CHECK(x.dim() == 3 && x.size(2) == a.cells, "darcy_fem to_points: expected [B, C, ",
               a.cells, "] (one value per cell), got ", x.sizes());
    const auto w = a.load_weight.to(x.scalar_type());
    const int64_t points = a.pattern.rows();
    torch::Tensor sum = torch::zeros({x.size(0), x.size(1), points}, x.options())
                            .index_add(2, a.load_point, x.index_select(2, a.load_cell) * w);
    const torch::Tensor total = torch::zeros({points}, x.options()).index_add(0, a.load_point, w);
    return sum / total;
  }

  OperatorPtr make_operator(const FieldMap& in) const override {
    const FemAssembly& a = bound("operator");
    const auto it = in.find("kappa");
    PINS_CHECK(it != in.end() && it->second.defined(),
               "darcy_fem operator: the input field 'kappa' is missing");
    const torch::Tensor& kappa = it->second;
    return std::make_shared<SparseOperator>(a.pattern.to(kappa.device()),
                                            a.values(kappa.contiguous()));
  }

  torch::Tensor rhs(const FieldMap& in) const override {
    const FemAssembly& a = bound("right-hand side");
    check_inputs(in, "darcy_fem right-hand side");
    return a.load(in.at("f").contiguous());
  }

 private:
  const FemAssembly& bound(const char* what) const {
    PINS_CHECK(assembly_, "darcy_fem ", what,
               ": the family is not bound to a mesh; use "
               "family->with_mesh(mesh) or pins::family_for(name, parameters, info.mesh)");
    return *assembly_;
  }

  std::shared_ptr<const Mesh> mesh_;
  std::shared_ptr<const FemAssembly> assembly_;
};

}  // namespace

std::shared_ptr<const Family> family() {
  static const auto instance = std::make_shared<const DarcyFemFamily>();
  return instance;
}

}  // namespace pins::darcy_fem
