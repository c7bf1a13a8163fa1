#pragma once
/// \file
/// Problem families in pins::core: the half of a family that needs no PETSc — its named input
/// fields, its operator and its right-hand side — so the trainer, `pins verify`,
/// `pins evaluate` and the Python module reach a family's operator only through this
/// interface, never through the family's own headers. The PETSc half (sampler, DMDA/DMPlex
/// assembly, pde/problem_family.hpp) is registered under the same name.
///
/// A PDE code registers its own family from outside pins:
/// \code
///   class Poisson3D final : public pins::Family { ... };
///   pins::register_family(std::make_shared<Poisson3D>());   // once, before use
///   const pins::Family& fam = pins::find_family("poisson3d");
///   pins::OperatorPtr A = fam.make_operator(inputs);          // inputs: {"kappa": [B,nz,ny,nx]}
///   auto loss = pins::physics_loss("residual", *A, u, fam.rhs(inputs));
/// \endcode

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pins/core/mesh.hpp"
#include "pins/core/operator.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins {

/// Named batches of fields, e.g. {"kappa": [B, ny, nx], "f": [B, ny, nx]}.
using FieldMap = std::map<std::string, torch::Tensor>;

/// How the trainer turns an input field into a network feature.
enum class FieldTransform {
  kLogStandardise,  ///< positive coefficient fields (κ): log, then standardised
  kScale,           ///< source-like fields (f): divided by their root mean square
};

/// One named input field of a family (a dataset array of the same name).
struct InputField {
  std::string name;         ///< dataset array name, e.g. "kappa"
  FieldTransform transform;
  std::string description;  ///< one line for `pins help` and dataset attributes
  int components = 1;       ///< values per grid point (dataset array [N, (c,) grid...])
  /// Given per cell of the family's mesh ([N, (c,) cells]) instead of per point (mesh
  /// families only).
  bool on_cells = false;
};

/// The PETSc-free half of a problem family. Implementations are immutable and thread-safe.
class Family {
 public:
  virtual ~Family() = default;

  /// The name `-pde` selects and datasets record, e.g. "darcy".
  virtual std::string name() const = 0;
  /// One line for `pins help` and error messages.
  virtual std::string summary() const = 0;
  /// The stencil of its operator (the operator form; structured families). A family on a
  /// mesh (on_mesh()) has none and throws pins::Error.
  virtual Stencil stencil() const = 0;
  /// Whether the family lives on an unstructured mesh (a pins::Mesh, from its DMPlex): its
  /// fields are [B, points] (or [B, cells] for inputs on_cells), its operator is a
  /// pins::SparseOperator over the points, and make_operator()/rhs() need the mesh: call them
  /// on with_mesh(mesh). Default: false (a structured grid, stencil()).
  virtual bool on_mesh() const { return false; }
  /// A mesh family bound to `mesh` (what a dataset's info.mesh holds). Throws pins::Error
  /// for a mesh the family cannot use, and for grid families (the default).
  virtual std::shared_ptr<const Family> with_mesh(std::shared_ptr<const Mesh> mesh) const;
  /// The mesh a mesh family is bound to (with_mesh), else null.
  virtual std::shared_ptr<const Mesh> mesh() const { return nullptr; }
  /// Mesh families: per-cell values [B, C, cells] averaged to the points [B, C, points] (how
  /// per-cell inputs become node features of a mesh surrogate). Needs the bound family; the
  /// default throws (grid families have no cells apart from their points).
  virtual torch::Tensor to_points(const torch::Tensor& cell_values) const;
  /// The dimension of the domain: stencil().dim on a grid; a mesh family's own.
  virtual int dimension() const { return stencil().dim; }
  /// Components of the solution per point: stencil().dof on a grid.
  virtual int dof() const { return stencil().dof; }
  /// The operator form as datasets record it (attribute "operator"), e.g.
  /// "stencil: dim=2 star width=1 dof=1" (the default, from stencil()).
  virtual std::string operator_description() const;
  /// Its input fields, in the order networks get them as channels.
  virtual std::vector<InputField> inputs() const = 0;

  /// The batch of operators A(inputs) exactly as the family's PETSc assembly builds them;
  /// every input is [B, grid…], float32 or float64 on Kokkos' device. Throws pins::Error
  /// naming a missing or mis-shaped input. For a nonlinear family (nonlinear()) it is a
  /// fixed linear operator of the same stencil that the family documents (e.g. its
  /// coefficient frozen at u = 0): callers use it for scales and diagonal scaling, never as
  /// the equation — that is residual().
  virtual OperatorPtr make_operator(const FieldMap& inputs) const = 0;

  /// The right-hand side f [B, field…] for the inputs.
  virtual torch::Tensor rhs(const FieldMap& inputs) const = 0;

  /// Whether the discrete equation F(u; inputs) = 0 is nonlinear in u. Consumers then go
  /// through residual() alone: the trainer offers only the "residual" physics loss, and
  /// nothing treats make_operator() as the equation. Default: false (F = A u − f).
  virtual bool nonlinear() const { return false; }

  /// The residual F(u; inputs) [B, field…] of the family's discrete equation — the one its
  /// PETSc half solves, so a stored solution has F ≈ 0 — as a differentiable LibTorch
  /// function of u (its backward gives J(u)ᵀ g; of the inputs it need not be
  /// differentiable). u is [B, field…] with the inputs' dtype. The default is the linear
  /// operator's make_operator(inputs)->residual(u, rhs(inputs)) = A u − f, so F(0) = −f.
  /// Example: `auto loss = fam.residual(inputs, u).square().mean();`
  virtual torch::Tensor residual(const FieldMap& inputs, const torch::Tensor& u) const;

  /// A non-negative field [B, field…] bounding the terms residual() sums at each point (for
  /// A u − f: |A| |u| + |f|), for rounding bounds: F computed in precision eps differs from
  /// the exact one by about (terms per point) · eps · this. Not differentiable.
  virtual torch::Tensor residual_magnitude(const FieldMap& inputs, const torch::Tensor& u) const;

  /// ‖F(u)‖₂ / max(‖F(0)‖₂, 1e-300) per sample [B], what datasets store as `residual`; for linear
  /// families (F(0) = −f) pins::relative_residual bit for bit. Not differentiable.
  torch::Tensor relative_residual(const FieldMap& inputs, const torch::Tensor& u) const;

  /// A linear operator L whose inverse maps the residual F(u) of an answer u near the
  /// solution u* to (approximately) its error u − u*: for a linear family A itself
  /// (A(u − u*) = A u − f exactly), for a nonlinear one its Jacobian at u or an
  /// approximation of it (e.g. the operator with coefficients frozen at u). What the
  /// a-posteriori error estimate (pins/core/error_estimate.hpp) inverts approximately.
  /// Default: make_operator(inputs) for a linear family; nullptr (no estimate) for a
  /// nonlinear one, which overrides it to offer one. Not differentiable.
  virtual OperatorPtr linearised_operator(const FieldMap& inputs, const torch::Tensor& u) const;

  /// A rough size (root mean square) of the solutions for these inputs, used to scale a
  /// network's output when no solutions are known (physics-only training). The default
  /// runs a few conjugate-gradient iterations of the operator on up to 4 samples (symmetric
  /// operators); families with a closed form override it.
  virtual double solution_scale(const FieldMap& inputs) const;

  /// The family for a dataset's parameters: `parameters` are the dataset's sampler
  /// attributes without their "sampler." prefix, as text (pins::to_string of each value).
  /// A family whose equation depends on some of them (e.g. nonlinear_darcy's k(u)) returns
  /// a copy set up from them and throws pins::Error naming a bad one; the default returns
  /// nullptr (the family itself serves every dataset). Reach it through family_for().
  virtual std::shared_ptr<const Family> with_parameters(
      const std::map<std::string, std::string>& parameters) const;

  /// Time-dependent families (one implicit time step as the equation): the name of the
  /// input field that holds the state at the start of the step, e.g. "u_prev" — one of
  /// inputs(), never stored in a dataset (a trajectory dataset's u[:, t] is the state at
  /// output time t, so the state of step t → t+1 is u[:, t]; pins::step_pairs builds the
  /// pairs). The equation F(u; inputs) = 0 of residual() is then one step from that state.
  /// Default: empty (the family is not time-dependent).
  virtual std::string state_input() const { return {}; }
  /// Whether state_input() names an input (the family steps in time).
  bool time_dependent() const { return !state_input().empty(); }
  /// The inputs a dataset of the family stores: inputs() without the state input.
  std::vector<InputField> dataset_inputs() const;

  /// The names of inputs() joined, e.g. "kappa, f".
  std::string input_names() const;
  /// Network input channels: the components of every input together (2 for Darcy's κ, f).
  int input_channels() const;
  /// Throws pins::Error unless `inputs` has every input of the family (extra ones are
  /// allowed); `who` prefixes the message.
  void check_inputs(const FieldMap& inputs, const std::string& who) const;
};

/// Registers a family under family->name(). Registering the same name twice is an error
/// unless it is the same object (idempotent for static registrations).
void register_family(std::shared_ptr<const Family> family);

/// The family called `name`; throws pins::Error listing the known names otherwise, e.g.
/// "-pde 'heat' is not a known problem family (known: darcy)".
const Family& find_family(const std::string& name);

/// The family called `name` set up for a dataset's sampler `parameters` (see
/// Family::with_parameters): what verify, evaluate and the trainer use for a dataset.
/// Example: `auto fam = pins::family_for(info.pde, pins::sampler_parameters(info));`
/// (pins/core/trainer.hpp has sampler_parameters).
std::shared_ptr<const Family> family_for(const std::string& name,
                                         const std::map<std::string, std::string>& parameters);

/// The same for a dataset on `mesh` (its info.mesh; null on a grid): the family set up for
/// `parameters`, then bound to the mesh (Family::with_mesh) when there is one. Refuses a
/// mesh for a grid family and a grid dataset for a mesh family.
std::shared_ptr<const Family> family_for(const std::string& name,
                                         const std::map<std::string, std::string>& parameters,
                                         std::shared_ptr<const Mesh> mesh);

/// Registered family names, built-in ones first.
std::vector<std::string> family_names();

}  // namespace pins
