// Unstructured meshes as datasets store them (pins/core/mesh.hpp).

#include "pins/core/mesh.hpp"

#include <cmath>
#include <vector>

#include "pins/core/check.hpp"

namespace pins {

int cell_type_vertices(const std::string& cell_type) {
  if (cell_type == "triangle") return 3;
  if (cell_type == "quadrilateral" || cell_type == "tetrahedron") return 4;
  if (cell_type == "hexahedron") return 8;
  return 0;
}

std::int64_t Mesh::vertex_count() const {
  return dim > 0 ? std::int64_t(coordinates.size()) / dim : 0;
}

std::int64_t Mesh::cell_count() const {
  const int k = cell_vertices();
  return k > 0 ? std::int64_t(cells.size()) / k : 0;
}

std::string Mesh::describe() const {
  return std::to_string(point_count()) + " points, " + std::to_string(cell_count()) + " " +
         cell_type + " cells, " + std::to_string(vertex_count()) + " vertices";
}

void Mesh::check(const std::string& who) const {
  const int k = cell_vertices();
  PINS_CHECK(k > 0, who, ": mesh cell type '", cell_type,
             "' is not known (expected triangle, quadrilateral, tetrahedron or hexahedron)");
  PINS_CHECK(dim == 2 || dim == 3, who, ": mesh coordinates must have 2 or 3 components, got ",
             dim);
  PINS_CHECK(coordinates.size() % size_t(dim) == 0 && !coordinates.empty(), who,
             ": mesh coordinates hold ", coordinates.size(), " values, expected vertices x ", dim);
  PINS_CHECK(cells.size() % size_t(k) == 0 && !cells.empty(), who, ": mesh cells hold ",
             cells.size(), " vertex indices, expected cells x ", k, " (", cell_type, ")");
  const std::int64_t nv = vertex_count();
  for (size_t i = 0; i < coordinates.size(); ++i)
    PINS_CHECK(std::isfinite(coordinates[i]), who, ": mesh coordinate ", i / size_t(dim),
               " is not finite");
  for (size_t i = 0; i < cells.size(); ++i)
    PINS_CHECK(cells[i] >= 0 && cells[i] < nv, who, ": mesh cell ", i / size_t(k), " names vertex ",
               cells[i], ", outside [0, ", nv, ")");
  PINS_CHECK(!point_vertex.empty(), who, ": the mesh has no points (unknowns)");
  std::vector<char> taken(size_t(nv), 0);
  for (size_t p = 0; p < point_vertex.size(); ++p) {
    const std::int64_t v = point_vertex[p];
    PINS_CHECK(v >= 0 && v < nv, who, ": mesh point ", p, " lies on vertex ", v, ", outside [0, ",
               nv, ")");
    PINS_CHECK(!taken[size_t(v)], who, ": mesh points share vertex ", v);
    taken[size_t(v)] = 1;
  }
}

bool Mesh::operator==(const Mesh& o) const {
  return cell_type == o.cell_type && dim == o.dim && coordinates == o.coordinates &&
         cells == o.cells && point_vertex == o.point_vertex;
}

}  // namespace pins
