#pragma once
/// \file
/// The interface every pins surrogate implements, so the trainer, the model files and the
/// PETSc preconditioner can use any architecture: a model mapping grid features
/// x [B, Cin, ny, nx] to y [B, Cout, ny, nx] (float32 or float64, the module's dtype), or,
/// for a mesh architecture (traits().mesh), node features x [B, Cin, n] to y [B, Cout, n] on
/// the mesh graph given beforehand by set_graph (surrogates/mesh_graph.hpp).
///
/// An architecture derives from torch::nn::Cloneable<Impl> (its one torch::nn::Module) and
/// from pins::Surrogate, a plain interface; module() gives the torch::nn::Module for
/// parameters, train()/eval(), to(), clone(), ...
///
/// Example:
/// \code
///   std::shared_ptr<pins::Surrogate> s = pins::make_surrogate("fno", options, 1, 1);
///   torch::Tensor y = s->forward(x);           // [B, 1, ny, nx]
///   auto params = s->module().parameters();   // for a torch::optim optimizer
///   s->module().to(torch::kFloat64);
/// \endcode

#include <torch/nn/module.h>

#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace pins {

struct MeshGraph;

/// What an architecture is and what it may be used for. Each registry entry declares it
/// (registry.hpp), so callers query properties instead of checking names, and know them
/// before a model is built (from -surrogate_type or a model file's architecture field).
struct SurrogateTraits {
  /// Spatial dimensions of the grids it runs on: 2 (x [B, C, ny, nx]) or 3 ([B, C, nz, ny, nx]);
  /// 0 for a mesh architecture (mesh = true), which runs on meshes of either dimension.
  /// Callers that check `dims` against their grid's dimension thus never pick a mesh one.
  int dims = 0;
  /// Resolution-invariant: its weights describe a map of the continuous fields, not of one
  /// grid, so evaluating a solution model on another grid than its training grid is meaningful
  /// (FNO: weights per frequency; MLP: reads coordinates in the unit square; MgNet: smoothers
  /// read the local stencil on every level of any grid). False for architectures that run on
  /// one grid only (DeepONet) or whose kernels are sized in cells, so that on another
  /// resolution they compute another map (U-Net). Preconditioner inputs are the discrete
  /// operator itself, so the surrogate PC applies any architecture serving "precondition" on
  /// the user's grid.
  bool grid_independent = false;
  /// Tasks it serves: "solution" (κ, f → u, `pins train -task solution`) and/or
  /// "precondition" (couplings of D⁻¹A and r̂ → Â⁻¹r̂, `-task precondition`).
  std::vector<std::string> tasks;
  /// The output is linear in the last input channel (the residual) for fixed other channels,
  /// so as a preconditioner it is one fixed linear operator per matrix.
  bool linear_in_input = false;
  /// The network is a whole multigrid cycle that smooths on every level: the preconditioner
  /// trainer wraps it in no extra Jacobi sweeps and trains it as a stationary iteration.
  bool smooths = false;
  /// It runs on unstructured meshes, not grids: x [B, C, n] on the n nodes of the MeshGraph
  /// given by Surrogate::set_graph before forward (dims is then 0). Last member, so the
  /// positional initialisers of the grid architectures need not mention it.
  bool mesh = false;
  /// It runs on the entries of a sparse matrix, x [B, C, nnz] (the learned smoother's network,
  /// pins/core/smoother.hpp), neither on a grid nor on a mesh graph (dims is then 0).
  bool matrix_entries = false;

  /// Whether `task` is one of `tasks`.
  bool serves(const std::string& task) const;
};

/// A neural surrogate on a 2-D or 3-D grid (traits().dims): features [B, Cin, (nz,) ny, nx]
/// → fields [B, Cout, (nz,) ny, nx]; or on a mesh (traits().mesh): [B, Cin, n] → [B, Cout, n]
/// on the graph of set_graph.
// Not a Module: LibTorch 2.x's Cloneable derives Module non-virtually (two Modules, ambiguous).
class Surrogate {
 public:
  virtual ~Surrogate() = default;

  /// Evaluates the surrogate on a batch of grid features x [B, in_channels(), ny, nx] (a mesh
  /// architecture: node features [B, in_channels(), n] on the graph of set_graph).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// Mesh architectures (traits().mesh): the graph the following forward calls run on,
  /// checked (pins::check_mesh_graph); it may be replaced at any time, e.g. by a finer mesh.
  /// The graph is data, not weights: model files do not store it. Grid architectures throw
  /// pins::Error ("fno: runs on grids, not on a mesh graph").
  virtual void set_graph(const MeshGraph& graph);
  /// The registry name of the architecture ("fno", "unet", "deeponet", "mlp", "mgnet",
  /// "fno3d", "unet3d").
  virtual std::string type() const = 0;
  /// The traits its registry entry declares (pins::surrogate_traits(type())).
  const SurrogateTraits& traits() const;
  /// The architecture's options as a JSON object keyed by the option names without the
  /// type prefix ({"modes": 12, ...} for -fno_modes ...), excluding the channel counts.
  /// pins::make_surrogate_from_json(type(), options_json(), ...) rebuilds the same
  /// architecture; model files store this.
  virtual nlohmann::json options_json() const = 0;
  /// Input channels Cin.
  virtual int in_channels() const = 0;
  /// Output channels Cout.
  virtual int out_channels() const = 0;

  /// The surrogate as a torch::nn::Module (each architecture returns *this): parameters(),
  /// named_parameters(), buffers(), train(), eval(), is_training(), to(), clone(), ...
  virtual torch::nn::Module& module() = 0;
  /// The surrogate as a const torch::nn::Module.
  virtual const torch::nn::Module& module() const = 0;

  /// Prints "pins::<type>(in=.., out=.., <options>)". Architectures override it once, which
  /// overrides torch::nn::Module::pretty_print too, so printing module() gives the same text.
  virtual void pretty_print(std::ostream& stream) const;

 protected:
  Surrogate() = default;
  // Copyable for Cloneable::clone(); protected so a Surrogate is not sliced.
  Surrogate(const Surrogate&) = default;
  Surrogate& operator=(const Surrogate&) = default;
};

/// The dtype of a network's weights (its first parameter's), float32 for one without any:
/// what its inputs are converted to.
torch::ScalarType parameter_dtype(const torch::nn::Module& module);

/// The device of a network's weights (its first parameter's), the CPU for one without any:
/// where its inputs must be.
torch::Device parameter_device(const torch::nn::Module& module);

/// Cell-centre coordinates of an ny × nx grid on the unit square, [2, ny, nx]: channel 0 is
/// x = (j + ½)/nx, channel 1 is y = (i + ½)/ny, with the dtype and device of `like`.
torch::Tensor cell_centre_coordinates(int64_t ny, int64_t nx, const torch::Tensor& like);

/// Cell-centre coordinates of a grid of any dimension d on the unit cube, [d, sizes...] for
/// sizes = {(nz,) ny, nx} (slowest axis first, as in the tensors): channel 0 is x along the
/// last axis, channel 1 is y, channel 2 is z. For {ny, nx} it equals the 2-D function.
torch::Tensor cell_centre_coordinates(c10::IntArrayRef sizes, const torch::Tensor& like);

/// Checks that x is a [B, channels, ny, nx] floating tensor (dims 2) or [B, channels, nz, ny,
/// nx] (dims 3); `who` names the caller in the message, e.g. "fno: input must have shape
/// [B, 3, ny, nx], got [2, 1, 8, 8]".
void check_surrogate_input(const torch::Tensor& x, int channels, const std::string& who,
                           int dims = 2);

/// Checks an architecture option's lower bound with a message that names the option the
/// way the command line spells it: "fno: modes must be at least 1, got 0 (-fno_modes)".
void check_option_min(const std::string& type, const std::string& option, int64_t value,
                      int64_t minimum);

/// Checks the channel counts a surrogate is built with ("fno: in_channels must be ...").
void check_channels(const std::string& type, int in_channels, int out_channels);

}  // namespace pins
