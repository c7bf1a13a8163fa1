#pragma once
/// \file
/// The graph a mesh surrogate (traits().mesh, e.g. "gnn") runs on: the nodes' positions and
/// the directed edges between them. For a finite-element problem the nodes are the unknowns
/// (e.g. the interior vertices of a DMPlex mesh) and the edges the off-diagonal couplings of
/// the sparse operator, which mesh_graph_from_csr builds from the matrix's CSR pattern.
///
/// Example:
/// \code
///   pins::MeshGraph g = pins::mesh_graph_from_csr(row_ptr, col_idx, coordinates);
///   g.lower = torch::zeros({2});  // the domain's box (see MeshGraph::lower)
///   g.upper = torch::ones({2});
///   gnn->set_graph(g);
///   auto u = gnn->forward(f);  // [B, Cin, n] -> [B, Cout, n]
/// \endcode

#include <torch/types.h>

#include "pins/core/mesh.hpp"
#include "pins/core/sparse_operator.hpp"

#include <string>

namespace pins {

/// Nodes and edges of an unstructured mesh, as tensors on the CPU (or any one device).
struct MeshGraph {
  /// [n, d] floating: the nodes' positions, d = 2 or 3 (column 0 is x).
  torch::Tensor coordinates;
  /// [2, E] int64: directed edges (src, dst), a message from node src to node dst. Both
  /// directions of every edge are present and there are no self loops.
  torch::Tensor edges;
  /// Optional [d] floating: the lower corner of the domain's bounding box (with upper). Mesh
  /// surrogates express positions relative to this box. Leave it undefined to use the
  /// nodes' own bounding box; but when the nodes are the *interior* vertices only, that box
  /// shrinks by one mesh size per side and so differs between meshes of the same domain:
  /// give the domain's box (boundary vertices included) to make positions mesh-independent.
  torch::Tensor lower;
  /// Optional [d] floating: the upper corner of the domain's bounding box (see lower).
  torch::Tensor upper;

  /// Number of nodes n (0 for an empty graph).
  int64_t nodes() const { return coordinates.defined() ? coordinates.size(0) : 0; }
};

/// Checks the graph's contract and throws pins::Error with one line naming `who` and the
/// first violation: coordinates [n, d] floating and finite with d = `dims` (any of 2, 3 if
/// dims is 0) and n ≥ 1; edges [2, E] int64 with indices in [0, n), no self loops, both
/// directions present; lower/upper both or neither, [d] floating, upper > lower per axis
/// (and a nodes' box of positive extent per axis when they are absent).
void check_mesh_graph(const MeshGraph& graph, const std::string& who, int dims = 0);

/// The graph of a sparse matrix's pattern: node i per row (and column), an edge j → i for
/// every off-diagonal entry (i, j). A non-symmetric pattern is symmetrised (the edges of both
/// directions, without duplicates), so the result always satisfies check_mesh_graph.
/// row_ptr: int64 [n + 1] (row_ptr[0] = 0, non-decreasing); col_idx: int32 or int64 [nnz]
/// with entries in [0, n); coordinates: [n, d] floating (the positions of the unknowns).
/// The edges are sorted by (dst, src). Throws pins::Error naming a bad argument.
MeshGraph mesh_graph_from_csr(const torch::Tensor& row_ptr, const torch::Tensor& col_idx,
                              const torch::Tensor& coordinates);

/// The graph of a mesh family's operator: a node per point of `mesh` (at its vertex's
/// position), the edges of `pattern` (the sparse operator over those points), and the box of
/// all the mesh's vertices (boundary ones included) as lower/upper, so positions mean the
/// same on every mesh of a domain. Throws pins::Error if the pattern is not points × points.
MeshGraph mesh_graph_of(const Mesh& mesh, const SparsePattern& pattern);

/// The same for a mesh family's operator A (Family::make_operator on the mesh's fields);
/// throws pins::Error unless A is a pins::SparseOperator.
MeshGraph mesh_graph_of(const Mesh& mesh, const Operator& A);

}  // namespace pins
