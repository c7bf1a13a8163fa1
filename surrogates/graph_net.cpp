#include "surrogates/graph_net.hpp"

#include <torch/nn/modules/activation.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "pins/core/check.hpp"
#include "surrogates/layers_nd.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

torch::nn::Sequential mlp(int in, int hidden, int out) {
  return torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::GELU(),
                               torch::nn::Linear(hidden, out));
}

// The geometry in x's dtype and device (a no-op copy when they already match).
GraphNetGeometry converted(const GraphNetGeometry& g, const torch::Tensor& x) {
  auto to_x = [&](const torch::Tensor& t) { return t.defined() ? t.to(x.options()) : t; };
  auto to_device = [&](const torch::Tensor& t) { return t.defined() ? t.to(x.device()) : t; };
  GraphNetGeometry c;
  c.nodes = g.nodes;
  c.src = to_device(g.src);
  c.dst = to_device(g.dst);
  c.position = to_x(g.position);
  c.edge_features = to_x(g.edge_features);
  c.inv_degree = to_x(g.inv_degree);
  c.corner_index = to_device(g.corner_index);
  c.corner_weight = to_x(g.corner_weight);
  c.inv_weight_sum = to_x(g.inv_weight_sum);
  return c;
}

// Multilinear interpolation weights from a grid^d grid of cell centres ((k + ½)/grid per
// axis) to points p in [0, 1]^d: for each of the 2^d corners, the flat cell index (x along
// the fastest axis, as in the [.., ny, nx] layout) and the weight. Points within half a cell
// of the box's side take the nearest centre's value (constant extrapolation).
std::pair<torch::Tensor, torch::Tensor> grid_corners(const torch::Tensor& p, int grid) {
  const int64_t n = p.size(0), d = p.size(1);
  auto u = p * static_cast<double>(grid) - 0.5;
  auto i0 = u.floor().clamp(0, grid - 2);
  auto t = (u - i0).clamp(0, 1);
  auto i0l = i0.to(torch::kInt64);
  std::vector<torch::Tensor> index, weight;
  for (int64_t c = 0; c < (int64_t{1} << d); ++c) {
    auto flat = torch::zeros({n}, torch::kInt64);
    auto w = torch::ones({n}, p.options());
    int64_t stride = 1;
    for (int64_t a = 0; a < d; ++a) {  // coordinate a = x, y, z: strides 1, grid, grid²
      const bool upper = (c >> a) & 1;
      flat = flat + (i0l.select(1, a) + (upper ? 1 : 0)) * stride;
      w = w * (upper ? t.select(1, a) : 1 - t.select(1, a));
      stride *= grid;
    }
    index.push_back(flat);
    weight.push_back(w);
  }
  return {torch::stack(index), torch::stack(weight).unsqueeze(2)};
}

}  // namespace

GraphNetBlockImpl::GraphNetBlockImpl(int width, int dims, int grid, int modes, int padding)
    : width_(width), dims_(dims), grid_(grid), modes_(modes), padding_(padding) {
  reset();
}

void GraphNetBlockImpl::reset() {
  const int w = width_;
  // The message MLP's first layer on the concatenation (h_src, h_dst, edge) is split into
  // three linear maps: the node parts are applied per node (n rows) and gathered, instead of
  // per edge (E ≈ 6n rows on triangles). Same function, a third of the work.
  message_src_ = register_module("message_src", torch::nn::Linear(w, w));
  message_dst_ =
      register_module("message_dst", torch::nn::Linear(torch::nn::LinearOptions(w, w).bias(false)));
  message_edge_ = register_module(
      "message_edge", torch::nn::Linear(torch::nn::LinearOptions(dims_ + 1, w).bias(false)));
  message_out_ = register_module("message_out", torch::nn::Linear(w, w));
  const int parts = grid_ > 0 ? 3 : 2;  // h, messages (, grid path)
  update_in_ = register_module("update_in", torch::nn::Linear(parts * w, w));
  update_out_ = register_module("update_out", torch::nn::Linear(w, w));
  if (grid_ > 0) {
    spectral_ = register_module("spectral", SpectralConv(w, w, modes_, dims_));
    pointwise_ = nd::conv(dims_, w, w, 1);
    register_module("pointwise", pointwise_.ptr());
  }
}

torch::Tensor GraphNetBlockImpl::global(const torch::Tensor& h, const GraphNetGeometry& g) {
  const int64_t B = h.size(0), cells = g.inv_weight_sum.size(0);
  // Splat: each grid cell gets the weighted mean of the nodes around it, with the weights
  // of the interpolation back. Normalising by the weight sum makes it an average, so its
  // value does not grow with the number of nodes per cell (finer meshes).
  auto grid = torch::zeros({B, cells, width_}, h.options());
  for (int64_t c = 0; c < g.corner_index.size(0); ++c)
    grid = grid.index_add(1, g.corner_index[c], h * g.corner_weight[c]);
  grid = grid * g.inv_weight_sum;
  std::vector<int64_t> shape{B, width_};
  shape.insert(shape.end(), dims_, grid_);
  auto z = grid.transpose(1, 2).reshape(shape);  // [B, width, (grid,) grid, grid]
  const std::vector<int64_t> sizes(dims_, grid_);
  z = nd::pad_high(z, std::vector<int64_t>(dims_, padding_), /*replicate=*/false);
  z = torch::gelu(spectral_(z) + pointwise_.forward(z));
  z = nd::crop(z, sizes).reshape({B, width_, cells}).transpose(1, 2);  // [B, cells, width]
  auto out = z.index_select(1, g.corner_index[0]) * g.corner_weight[0];
  for (int64_t c = 1; c < g.corner_index.size(0); ++c)
    out = out + z.index_select(1, g.corner_index[c]) * g.corner_weight[c];
  return out;
}

torch::Tensor GraphNetBlockImpl::forward(const torch::Tensor& h, const GraphNetGeometry& g) {
  auto m = message_src_(h).index_select(1, g.src) + message_dst_(h).index_select(1, g.dst) +
           message_edge_(g.edge_features);
  m = torch::gelu(m);  // [B, E, width]
  // Mean over incoming edges: a sum would grow with the degree, which differs between
  // triangles and quadrilaterals, and between the interior and the boundary. The message
  // MLP's last layer is linear, so it commutes with the mean and is applied per node after
  // it: the same function (but for nodes without edges, which get its bias), 1/6 the work.
  auto local = message_out_(torch::zeros_like(h).index_add(1, g.dst, m) * g.inv_degree);
  std::vector<torch::Tensor> parts{h, local};
  if (grid_ > 0) parts.push_back(global(h, g));
  // Residual update: each block refines h, which keeps deep stacks trainable.
  return h + update_out_(torch::gelu(update_in_(torch::cat(parts, 2))));
}

GraphNetImpl::GraphNetImpl(GraphNetOptions options_) : options(std::move(options_)) {
  const std::string t = "gnn";
  check_channels(t, options.in_channels(), options.out_channels());
  PINS_CHECK(options.dims() == 2 || options.dims() == 3, "gnn: dims must be 2 or 3, got ",
             options.dims(), " (-gnn_dims)");
  check_option_min(t, "width", options.width(), 1);
  check_option_min(t, "layers", options.layers(), 1);
  check_option_min(t, "grid", options.grid(), 0);
  PINS_CHECK(options.grid() != 1, "gnn: grid must be 0 (no grid path) or at least 2, got 1",
             " (-gnn_grid)");
  check_option_min(t, "modes", options.modes(), 1);
  check_option_min(t, "padding", options.padding(), 0);
  check_option_min(t, "hidden", options.hidden(), 1);
  reset();
}

void GraphNetImpl::reset() {
  const int w = options.width();
  encoder_ = register_module("encoder", mlp(options.in_channels() + options.dims(), w, w));
  blocks_.clear();
  for (int l = 0; l < options.layers(); ++l) {
    blocks_.push_back(register_module(
        "block" + std::to_string(l),
        GraphNetBlock(w, options.dims(), options.grid(), options.modes(), options.padding())));
  }
  decoder_ = register_module("decoder", mlp(w, options.hidden(), options.out_channels()));
}

void GraphNetImpl::set_graph(const MeshGraph& graph) {
  check_mesh_graph(graph, "gnn", options.dims());
  torch::NoGradGuard no_grad;
  GraphNetGeometry g;
  const auto c = graph.coordinates.to(torch::kFloat64);
  const int64_t n = c.size(0);
  torch::Tensor lower, upper;
  if (graph.lower.defined()) {
    lower = graph.lower.to(c.options());
    upper = graph.upper.to(c.options());
  } else {
    lower = std::get<0>(c.min(0));
    upper = std::get<0>(c.max(0));
  }
  g.nodes = n;
  g.position = ((c - lower) / (upper - lower)).clamp(0, 1);
  g.src = graph.edges[0].contiguous();
  g.dst = graph.edges[1].contiguous();
  // Local mesh size per node: the mean length of its edges (incoming = incident, as both
  // directions are present); per edge the mean of both ends, so that Δx/h_e is the same
  // on every uniformly refined mesh and antisymmetric under edge reversal.
  auto dx = c.index_select(0, g.dst) - c.index_select(0, g.src);  // [E, d]
  auto length = dx.norm(2, 1);
  auto degree = torch::zeros({n}, c.options()).index_add(0, g.dst, torch::ones_like(length));
  g.inv_degree = (1 / degree.clamp_min(1)).unsqueeze(1);
  auto h_node = torch::zeros({n}, c.options()).index_add(0, g.dst, length) * g.inv_degree.view(n);
  auto h_edge = (0.5 * (h_node.index_select(0, g.src) + h_node.index_select(0, g.dst)))
                    .clamp_min(1e-300)  // coincident nodes: zero features, not NaN
                    .unsqueeze(1);
  g.edge_features = torch::cat({dx / h_edge, length.unsqueeze(1) / h_edge}, 1);
  if (options.grid() > 0) {
    std::tie(g.corner_index, g.corner_weight) = grid_corners(g.position, options.grid());
    int64_t cells = 1;
    for (int a = 0; a < options.dims(); ++a) cells *= options.grid();
    auto sum = torch::zeros({cells}, c.options());
    for (int64_t k = 0; k < g.corner_index.size(0); ++k)
      sum.index_add_(0, g.corner_index[k], g.corner_weight[k].view(n));
    g.inv_weight_sum =
        torch::where(sum > 0, 1 / sum.clamp_min(1e-300), torch::zeros_like(sum)).unsqueeze(1);
  }
  geometry_ = std::move(g);
}

torch::Tensor GraphNetImpl::forward(const torch::Tensor& x) {
  PINS_CHECK(has_graph(),
             "gnn: no mesh graph: call set_graph(graph) before forward (model files "
             "hold the weights only, not the mesh)");
  const int64_t n = geometry_.nodes;
  PINS_CHECK(x.defined(), "gnn: input is an undefined tensor");
  PINS_CHECK(x.dim() == 3 && x.size(1) == options.in_channels() && x.size(2) == n,
             "gnn: input must have shape [B, ", options.in_channels(), ", n] with n = ", n,
             " (the mesh graph's nodes), got ", x.sizes());
  PINS_CHECK(x.is_floating_point(), "gnn: input must be float32 or float64, got ", x.scalar_type());
  const GraphNetGeometry g = converted(geometry_, x);
  const int64_t B = x.size(0);
  auto features = torch::cat({x.transpose(1, 2), g.position.unsqueeze(0).expand({B, n, -1})}, 2);
  auto h = encoder_->forward(features);  // [B, n, width]
  for (auto& block : blocks_) h = block->forward(h, g);
  return decoder_->forward(h).transpose(1, 2).contiguous();  // [B, Cout, n]
}

nlohmann::json GraphNetImpl::options_json() const {
  return {{"dims", options.dims()},    {"width", options.width()}, {"layers", options.layers()},
          {"grid", options.grid()},    {"modes", options.modes()}, {"padding", options.padding()},
          {"hidden", options.hidden()}};
}

const SurrogateType& gnn_surrogate_type() {
  static const SurrogateType entry = [] {
    const GraphNetOptions d(1, 1);
    SurrogateTraits traits;
    traits.dims = 0;  // not a grid architecture: it runs on meshes of either dimension
    traits.mesh = true;
    // Edge features in units of the local mesh size, mean aggregation and a global path on a
    // grid fixed in physical space: the same weights describe one map on any mesh of the
    // domain.
    traits.grid_independent = true;
    traits.tasks = {"solution"};
    return SurrogateType{
        "gnn",
        "multiscale graph network on unstructured meshes, [B, C, n] on a mesh graph "
        "(message passing + a Fourier layer on a coarse grid per block); runs on any mesh",
        traits,
        {{"dims", std::to_string(d.dims()), "spatial dimension of the meshes (2 or 3)"},
         {"width", std::to_string(d.width()), "features per node"},
         {"layers", std::to_string(d.layers()), "blocks (message passing + grid path)"},
         {"grid", std::to_string(d.grid()),
          "cells per axis of the global path's grid (0: none); not finer than the coarsest mesh"},
         {"modes", std::to_string(d.modes()), "Fourier modes per axis on that grid"},
         {"padding", std::to_string(d.padding()), "zero-padding cells of that grid"},
         {"hidden", std::to_string(d.hidden()), "units of the decoder's hidden layer"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          GraphNetOptions opt(in, out);
          opt.dims(o.get_int("-gnn_dims", opt.dims()))
              .width(o.get_int("-gnn_width", opt.width()))
              .layers(o.get_int("-gnn_layers", opt.layers()))
              .grid(o.get_int("-gnn_grid", opt.grid()))
              .modes(o.get_int("-gnn_modes", opt.modes()))
              .padding(o.get_int("-gnn_padding", opt.padding()))
              .hidden(o.get_int("-gnn_hidden", opt.hidden()));
          return GraphNet(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
