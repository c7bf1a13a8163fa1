#pragma once
/// \file
/// An unstructured mesh as datasets store it and the core half of a mesh family reads it:
/// vertex coordinates, cells as vertex lists, and the vertex each unknown lives on. It is
/// what a family on DMPlex (e.g. darcy_fem) records so that a dataset can be used — trained
/// on, verified, plotted — without PETSc and without the mesh file it came from.
///
/// Fields on a mesh are arrays over its n *points* (the unknowns, in the order of the
/// solver's vector; boundary vertices with an essential condition are not points) or over
/// its cells (e.g. a coefficient constant per cell).
///
/// Example:
/// \code
///   const pins::Mesh& m = *dataset.info.mesh;
///   double x = m.coordinates[m.point_vertex[p] * m.dim];   // x of point p
/// \endcode

#include <cstdint>
#include <string>
#include <vector>

namespace pins {

/// Vertices per cell of a cell type: "triangle" 3, "quadrilateral" 4, "tetrahedron" 4,
/// "hexahedron" 8; 0 for a name pins does not know.
int cell_type_vertices(const std::string& cell_type);

/// An unstructured mesh of one cell type.
struct Mesh {
  /// "triangle", "quadrilateral", "tetrahedron" or "hexahedron".
  std::string cell_type;
  /// Coordinates per vertex (2 or 3).
  int dim = 2;
  /// [vertices × dim], vertex-major.
  std::vector<double> coordinates;
  /// [cells × cell_vertices()]: each cell's vertices in PETSc's closure order (for
  /// quadrilaterals: around the cell, so consecutive vertices share an edge).
  std::vector<std::int64_t> cells;
  /// [points]: the vertex each unknown (point) lives on, in the order of the field arrays.
  std::vector<std::int64_t> point_vertex;

  int cell_vertices() const { return cell_type_vertices(cell_type); }
  std::int64_t vertex_count() const;
  std::int64_t cell_count() const;
  std::int64_t point_count() const { return std::int64_t(point_vertex.size()); }
  /// "1089 points, 2048 triangle cells, 1089 vertices" for messages.
  std::string describe() const;
  /// Throws pins::Error, prefixed by `who`, naming the first inconsistency: an unknown cell
  /// type, dim outside 2–3, array sizes that are not multiples, a vertex index out of range,
  /// a non-finite coordinate, a point on no vertex or two points on one vertex, no cells.
  void check(const std::string& who) const;

  bool operator==(const Mesh& o) const;
};

}  // namespace pins
