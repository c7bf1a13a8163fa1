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
};

/// The PETSc-free half of a problem family. Implementations are immutable and thread-safe.
class Family {
 public:
  virtual ~Family() = default;

  /// The name `-pde` selects and datasets record, e.g. "darcy".
  virtual std::string name() const = 0;
  /// One line for `pins help` and error messages.
  virtual std::string summary() const = 0;
  /// The stencil of its operator (the operator form; structured families).
  virtual Stencil stencil() const = 0;
  /// Its input fields, in the order networks get them as channels.
  virtual std::vector<InputField> inputs() const = 0;

  /// The batch of operators A(inputs) exactly as the family's PETSc assembly builds them;
  /// every input is [B, grid…], float32 or float64 on Kokkos' device. Throws pins::Error
  /// naming a missing or mis-shaped input.
  virtual OperatorPtr make_operator(const FieldMap& inputs) const = 0;

  /// The right-hand side f [B, field…] for the inputs.
  virtual torch::Tensor rhs(const FieldMap& inputs) const = 0;

  /// A rough size (root mean square) of the solutions for these inputs, used to scale a
  /// network's output when no solutions are known (physics-only training). The default
  /// runs a few conjugate-gradient iterations of the operator on up to 4 samples (symmetric
  /// operators); families with a closed form override it.
  virtual double solution_scale(const FieldMap& inputs) const;

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

/// Registered family names, built-in ones first.
std::vector<std::string> family_names();

}  // namespace pins
