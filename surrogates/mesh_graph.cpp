#include "surrogates/mesh_graph.hpp"

#include <torch/types.h>

#include <tuple>

#include "pins/core/check.hpp"

namespace pins {

namespace {

// Directed edge keys src·n + dst, sorted: the edge set as one comparable tensor.
torch::Tensor sorted_keys(const torch::Tensor& src, const torch::Tensor& dst, int64_t n) {
  return std::get<0>(torch::sort(src * n + dst));
}

void check_box_corner(const torch::Tensor& t, const char* name, int64_t d, const std::string& who) {
  PINS_CHECK(t.dim() == 1 && t.size(0) == d && t.is_floating_point(), who, ": mesh graph ", name,
             " must be a floating [", d, "] tensor (the domain box's corner), got ",
             t.scalar_type(), " ", t.sizes());
}

}  // namespace

void check_mesh_graph(const MeshGraph& g, const std::string& who, int dims) {
  PINS_CHECK(g.coordinates.defined(), who, ": mesh graph has no coordinates");
  const auto& c = g.coordinates;
  PINS_CHECK(c.dim() == 2 && c.size(0) >= 1 && (c.size(1) == 2 || c.size(1) == 3) &&
                 (dims == 0 || c.size(1) == dims),
             who, ": mesh graph coordinates must have shape [n, ",
             dims == 0 ? std::string("d") : std::to_string(dims), "] with n >= 1",
             dims == 0 ? " and d = 2 or 3" : "", ", got ", c.sizes());
  PINS_CHECK(c.is_floating_point(), who, ": mesh graph coordinates must be floating, got ",
             c.scalar_type());
  PINS_CHECK(torch::isfinite(c).all().item<bool>(), who, ": mesh graph coordinates must be finite");
  const int64_t n = c.size(0), d = c.size(1);

  PINS_CHECK(g.edges.defined(), who, ": mesh graph has no edges tensor (use an empty [2, 0] one)");
  const auto& e = g.edges;
  PINS_CHECK(e.scalar_type() == torch::kInt64 && e.dim() == 2 && e.size(0) == 2, who,
             ": mesh graph edges must be an int64 [2, E] tensor (src, dst), got ", e.scalar_type(),
             " ", e.sizes());
  PINS_CHECK(e.device() == c.device(), who,
             ": mesh graph edges and coordinates must be on the same device");
  if (e.size(1) > 0) {
    const int64_t lo = e.min().item<int64_t>(), hi = e.max().item<int64_t>();
    PINS_CHECK(lo >= 0 && hi < n, who, ": mesh graph edge indices must lie in [0, ", n,
               ") (n = the coordinates' rows), got [", lo, ", ", hi, "]");
    auto src = e[0], dst = e[1];
    PINS_CHECK(!src.eq(dst).any().item<bool>(), who,
               ": mesh graph edges must not contain self loops (src == dst)");
    // Messages flow both ways along a mesh edge; a one-way edge is a caller's bug (a pattern
    // given as a triangle only), and would make the network depend on the node numbering.
    PINS_CHECK(torch::equal(sorted_keys(src, dst, n), sorted_keys(dst, src, n)), who,
               ": mesh graph edges must contain both directions of every edge (found (src, dst) "
               "without (dst, src))");
  }

  PINS_CHECK(g.lower.defined() == g.upper.defined(), who,
             ": mesh graph lower and upper must be given together (or neither)");
  torch::Tensor lower = g.lower, upper = g.upper;
  if (lower.defined()) {
    check_box_corner(lower, "lower", d, who);
    check_box_corner(upper, "upper", d, who);
  } else {
    lower = std::get<0>(c.min(0));
    upper = std::get<0>(c.max(0));
  }
  PINS_CHECK(upper.to(torch::kFloat64).gt(lower.to(torch::kFloat64)).all().item<bool>(), who,
             ": mesh graph box must have upper > lower on every axis",
             g.lower.defined() ? "" : " (the nodes' bounding box is flat: give lower and upper)");
}

MeshGraph mesh_graph_from_csr(const torch::Tensor& row_ptr, const torch::Tensor& col_idx,
                              const torch::Tensor& coordinates) {
  const std::string who = "mesh_graph_from_csr";
  PINS_CHECK(row_ptr.defined() && row_ptr.scalar_type() == torch::kInt64 && row_ptr.dim() == 1 &&
                 row_ptr.size(0) >= 2,
             who, ": row_ptr must be an int64 [n + 1] tensor with n >= 1");
  PINS_CHECK(col_idx.defined() && col_idx.dim() == 1 &&
                 (col_idx.scalar_type() == torch::kInt32 || col_idx.scalar_type() == torch::kInt64),
             who, ": col_idx must be an int32 or int64 [nnz] tensor");
  const int64_t n = row_ptr.size(0) - 1;
  auto rp = row_ptr.cpu(), cols = col_idx.cpu().to(torch::kInt64);
  PINS_CHECK(rp[0].item<int64_t>() == 0 && rp[n].item<int64_t>() == cols.size(0), who,
             ": row_ptr must start at 0 and end at nnz = ", cols.size(0), ", got ",
             rp[0].item<int64_t>(), " and ", rp[n].item<int64_t>());
  auto counts = rp.slice(0, 1) - rp.slice(0, 0, n);
  PINS_CHECK(counts.ge(0).all().item<bool>(), who, ": row_ptr must be non-decreasing");
  if (cols.size(0) > 0) {
    PINS_CHECK(cols.min().item<int64_t>() >= 0 && cols.max().item<int64_t>() < n, who,
               ": col_idx entries must lie in [0, ", n, ")");
  }
  PINS_CHECK(coordinates.defined() && coordinates.dim() == 2 && coordinates.size(0) == n, who,
             ": coordinates must have shape [n, d] with n = ", n, " rows (the matrix's), got ",
             coordinates.defined() ? coordinates.sizes() : c10::IntArrayRef{});

  // Entry (i, j) of row i: u_j enters equation i, so j sends a message to i.
  auto rows = torch::repeat_interleave(torch::arange(n, torch::kInt64), counts);
  auto off = rows.ne(cols);
  auto dst = rows.masked_select(off), src = cols.masked_select(off);
  // Both directions, without duplicates: unique keys dst·n + src (sorted by (dst, src)).
  auto keys = torch::cat({dst * n + src, src * n + dst});
  keys = std::get<0>(torch::_unique(keys, /*sorted=*/true));
  MeshGraph g;
  g.coordinates = coordinates;
  g.edges = torch::stack({keys.remainder(n), keys.div(n, "floor")}).to(coordinates.device());
  check_mesh_graph(g, who);
  return g;
}

MeshGraph mesh_graph_of(const Mesh& mesh, const SparsePattern& pattern) {
  mesh.check("mesh graph");
  const int64_t n = mesh.point_count();
  PINS_CHECK(pattern.rows() == n && pattern.cols() == n, "mesh graph: the operator is ",
             pattern.describe(), ", the mesh has ", n, " points");
  const torch::Tensor vertices =
      torch::tensor(mesh.coordinates, torch::kFloat64).view({mesh.vertex_count(), mesh.dim});
  const torch::Tensor points =
      vertices.index_select(0, torch::tensor(mesh.point_vertex, torch::kInt64));
  MeshGraph g = mesh_graph_from_csr(pattern.row_ptr(), pattern.col_idx(), points);
  g.lower = std::get<0>(vertices.min(0));
  g.upper = std::get<0>(vertices.max(0));
  return g;
}

MeshGraph mesh_graph_of(const Mesh& mesh, const Operator& A) {
  const auto* sparse = dynamic_cast<const SparseOperator*>(&A);
  PINS_CHECK(sparse, "mesh graph: a mesh family's operator must be sparse, got ", A.describe());
  return mesh_graph_of(mesh, sparse->pattern());
}

}  // namespace pins
