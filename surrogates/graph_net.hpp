#pragma once
/// \file
/// Multiscale graph network on unstructured meshes ("gnn"): node features x [B, Cin, n] on
/// the n nodes of a pins::MeshGraph (surrogates/mesh_graph.hpp) → y [B, Cout, n]. Meant for
/// finite-element families (darcy_fem: κ, f → u on the interior vertices), and built to run
/// on meshes it was not trained on, finer ones included:
///
///   encoder   MLP of the node's input channels and its position in the domain's box [0, 1]^d
///   `layers`  blocks, each  h ← h + MLP(h, local(h), global(h)):
///     local   one message-passing step: messages MLP(h_src, h_dst, Δx/h_e, |Δx|/h_e) along
///             the edges, averaged over each node's incoming edges. Edge geometry is the
///             offset in units of the local mesh size h_e (mean incident edge length of both
///             ends), so a refined mesh shows the network the same features.
///     global  the node features splatted onto a fixed `grid`^d grid over the domain's box
///             (bilinear / trilinear weights, normalised per grid cell), one Fourier layer
///             (pins::SpectralConv, zero-padded by `padding` cells, + a 1×1 convolution,
///             GELU), and interpolated back to the nodes with the same weights. An elliptic
///             solution at a node depends on the data everywhere; K message-passing steps
///             only reach K edges, which on a finer mesh is less physical distance. The
///             grid path reaches the whole domain in one step, and its size is fixed in
///             physical space, so it computes the same map on any mesh of the domain.
///   decoder   MLP (width → hidden → Cout) per node.
///
/// Everything is per node or per edge and the reductions are sums/means over edges or
/// nodes, so renumbering the nodes (and the edges with them) renumbers the outputs, up to
/// floating-point rounding of the sums. The aggregations use index_add, which is
/// deterministic on the CPU (sequential over the index) and uses atomics on CUDA (not bit
/// reproducible there).
///
/// The graph is set with set_graph before forward and is not part of the weights (model files
/// hold the weights only): a model trained on one mesh is evaluated on another by giving it
/// that mesh's graph.
///
/// Example:
/// \code
///   auto opts = pins::OptionMap::from_args({"-gnn_width", "32"});
///   auto gnn = pins::make_surrogate("gnn", opts, 2, 1);
///   gnn->set_graph(pins::mesh_graph_from_csr(row_ptr, col_idx, coordinates));
///   auto u = gnn->forward(x);  // x [B, 2, n] (κ, f per node) → u [B, 1, n]
///   gnn->set_graph(finer_graph);
///   auto u_fine = gnn->forward(x_fine);  // [B, 1, n_fine], same weights
/// \endcode

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "surrogates/fno.hpp"
#include "surrogates/mesh_graph.hpp"
#include "surrogates/surrogate.hpp"

namespace pins {

struct SurrogateType;

/// Options of pins::GraphNet (command line: -gnn_<name>).
struct GraphNetOptions {
  GraphNetOptions(int in_channels, int out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  /// Input channels Cin per node (the node's position is appended to these).
  TORCH_ARG(int, in_channels);
  /// Output channels Cout per node.
  TORCH_ARG(int, out_channels);
  /// Spatial dimension d of the meshes (2 or 3): the coordinates' columns.
  TORCH_ARG(int, dims) = 2;
  /// Features per node (and channels of the grid path).
  TORCH_ARG(int, width) = 32;
  /// Number of blocks (message passing + grid path each).
  TORCH_ARG(int, layers) = 4;
  /// Cells per axis of the global path's grid over the domain's box; 0: no global path (plain
  /// message passing). Keep it no finer than the coarsest mesh's node spacing: a grid cell
  /// with no node nearby reads zero.
  TORCH_ARG(int, grid) = 8;
  /// Fourier modes per axis of the grid path (clamped to what the padded grid has).
  TORCH_ARG(int, modes) = 4;
  /// Zero-padding cells on the high side of each axis of the grid path (non-periodic data).
  TORCH_ARG(int, padding) = 4;
  /// Units of the decoder's hidden layer.
  TORCH_ARG(int, hidden) = 64;
};

/// The mesh geometry a GraphNet derives from a MeshGraph once per set_graph (float64, on
/// the graph's device); forward converts it to the input's dtype and device.
struct GraphNetGeometry {
  int64_t nodes = 0;
  torch::Tensor src, dst;        ///< [E] int64: the edges
  torch::Tensor position;        ///< [n, d]: (x − lower) / (upper − lower), in [0, 1]^d
  torch::Tensor edge_features;   ///< [E, d + 1]: Δx / h_e and |Δx| / h_e
  torch::Tensor inv_degree;      ///< [n, 1]: 1 / max(incoming edges, 1)
  torch::Tensor corner_index;    ///< [2^d, n] int64: each node's grid cell corners (flat)
  torch::Tensor corner_weight;   ///< [2^d, n, 1]: their bilinear/trilinear weights
  torch::Tensor inv_weight_sum;  ///< [grid^d, 1]: 1 / Σ weights per grid cell (0 if none)
};

/// One block of the graph network: h ← h + MLP(h, mean of edge messages, grid path).
class GraphNetBlockImpl : public torch::nn::Cloneable<GraphNetBlockImpl> {
 public:
  /// A block of `width` features on `dims`-D meshes; grid 0 leaves out the grid path.
  GraphNetBlockImpl(int width, int dims, int grid, int modes, int padding);
  /// (Re)builds the layers; called by the constructor and by clone().
  void reset() override;
  /// h [B, n, width] → [B, n, width] on geometry `g` (already in h's dtype and device).
  torch::Tensor forward(const torch::Tensor& h, const GraphNetGeometry& g);

 private:
  torch::Tensor global(const torch::Tensor& h, const GraphNetGeometry& g);

  int width_, dims_, grid_, modes_, padding_;
  torch::nn::Linear message_src_{nullptr}, message_dst_{nullptr}, message_edge_{nullptr},
      message_out_{nullptr}, update_in_{nullptr}, update_out_{nullptr};
  SpectralConv spectral_{nullptr};
  torch::nn::AnyModule pointwise_;
};
TORCH_MODULE(GraphNetBlock);

/// The graph network; see the file comment.
class GraphNetImpl : public torch::nn::Cloneable<GraphNetImpl>, public Surrogate {
 public:
  /// Builds a graph network; throws pins::Error naming a bad option.
  explicit GraphNetImpl(GraphNetOptions options);
  /// (Re)builds the submodules from `options`; called by the constructor and by clone()
  /// (a clone keeps the graph).
  void reset() override;
  /// Checks `graph` (pins::check_mesh_graph with d = options.dims()) and derives the
  /// geometry the following forward calls use.
  void set_graph(const MeshGraph& graph) override;
  /// Whether a graph has been set.
  bool has_graph() const { return geometry_.nodes > 0; }
  /// Nodes n of the current graph (0 if none).
  int64_t graph_nodes() const { return geometry_.nodes; }
  /// x [B, Cin, n] → [B, Cout, n] with n the graph's nodes. Throws pins::Error without a
  /// graph or for a wrong shape or dtype.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string type() const override { return "gnn"; }
  nlohmann::json options_json() const override;
  int in_channels() const override { return options.in_channels(); }
  int out_channels() const override { return options.out_channels(); }
  torch::nn::Module& module() override { return *this; }
  const torch::nn::Module& module() const override { return *this; }
  /// Overrides both Surrogate's and torch::nn::Module's pretty_print.
  void pretty_print(std::ostream& stream) const override { Surrogate::pretty_print(stream); }

  GraphNetOptions options;

 private:
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
  std::vector<GraphNetBlock> blocks_;
  GraphNetGeometry geometry_;  // data, not state: neither a parameter nor a buffer
};
TORCH_MODULE(GraphNet);

/// The registry entry "gnn".
const SurrogateType& gnn_surrogate_type();

}  // namespace pins
