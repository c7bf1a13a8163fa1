// P1/Q1 element integrals on a pins::Mesh (fem_assembly.hpp).

#include "pde/darcy_fem/fem_assembly.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "pins/core/check.hpp"

namespace pins::darcy_fem {

namespace {

struct Point2 {
  double x, y;
};

// Element stiffness (κ = 1) and ∫φ_a of a P1 triangle: the gradients of the barycentric
// coordinates are constant, so one evaluation is exact.
void triangle(const std::array<Point2, 4>& p, double K[4][4], double m[4], int cell) {
  const double x10 = p[1].x - p[0].x, y10 = p[1].y - p[0].y;
  const double x20 = p[2].x - p[0].x, y20 = p[2].y - p[0].y;
  const double det = x10 * y20 - x20 * y10;  // twice the signed area
  PINS_CHECK(std::abs(det) > 0, "darcy_fem: mesh cell ", cell, " is a degenerate triangle");
  const double area = 0.5 * std::abs(det);
  // ∇λ1 = (y20, −x20)/det, ∇λ2 = (−y10, x10)/det, ∇λ0 = −∇λ1 − ∇λ2.
  const double g[3][2] = {
      {(y10 - y20) / det, (x20 - x10) / det}, {y20 / det, -x20 / det}, {-y10 / det, x10 / det}};
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) K[a][b] = area * (g[a][0] * g[b][0] + g[a][1] * g[b][1]);
    m[a] = area / 3;
  }
}

// Element stiffness (κ = 1) and ∫φ_a of a Q1 quadrilateral with vertices in cyclic order,
// mapped from [−1, 1]² bilinearly and integrated with the 2 × 2 Gauss rule.
void quadrilateral(const std::array<Point2, 4>& p, double K[4][4], double m[4], int cell) {
  static const double xi[4] = {-1, 1, 1, -1}, eta[4] = {-1, -1, 1, 1};
  const double g = 1.0 / std::sqrt(3.0);
  for (int a = 0; a < 4; ++a) {
    m[a] = 0;
    for (int b = 0; b < 4; ++b) K[a][b] = 0;
  }
  for (int q = 0; q < 4; ++q) {
    const double s = xi[q] * g, t = eta[q] * g;  // the Gauss points (weights 1)
    double N[4], dNs[4], dNt[4];
    for (int a = 0; a < 4; ++a) {
      N[a] = 0.25 * (1 + xi[a] * s) * (1 + eta[a] * t);
      dNs[a] = 0.25 * xi[a] * (1 + eta[a] * t);
      dNt[a] = 0.25 * eta[a] * (1 + xi[a] * s);
    }
    double J[2][2] = {{0, 0}, {0, 0}};  // J[i][j] = ∂x_i/∂ξ_j
    for (int a = 0; a < 4; ++a) {
      J[0][0] += p[a].x * dNs[a];
      J[0][1] += p[a].x * dNt[a];
      J[1][0] += p[a].y * dNs[a];
      J[1][1] += p[a].y * dNt[a];
    }
    const double det = J[0][0] * J[1][1] - J[0][1] * J[1][0];
    PINS_CHECK(det > 0 || det < 0, "darcy_fem: mesh cell ", cell, " is a degenerate quadrilateral");
    const double w = std::abs(det);
    double gx[4], gy[4];  // ∇φ_a = J^{-T} (dNs, dNt)
    for (int a = 0; a < 4; ++a) {
      gx[a] = (J[1][1] * dNs[a] - J[1][0] * dNt[a]) / det;
      gy[a] = (-J[0][1] * dNs[a] + J[0][0] * dNt[a]) / det;
    }
    for (int a = 0; a < 4; ++a) {
      m[a] += w * N[a];
      for (int b = 0; b < 4; ++b) K[a][b] += w * (gx[a] * gx[b] + gy[a] * gy[b]);
    }
  }
}

torch::Tensor int64_tensor(const std::vector<std::int64_t>& v) {
  return torch::tensor(v, torch::kInt64);
}

}  // namespace

FemAssembly assemble(const Mesh& mesh) {
  mesh.check("darcy_fem");
  PINS_CHECK(mesh.dim == 2 && (mesh.cell_type == "triangle" || mesh.cell_type == "quadrilateral"),
             "darcy_fem: the finite-element assembly supports 2-D triangle and quadrilateral "
             "meshes, got ",
             mesh.dim, "-D ", mesh.cell_type, " cells");
  const int k = mesh.cell_vertices();
  const std::int64_t nv = mesh.vertex_count(), nc = mesh.cell_count(), np = mesh.point_count();
  std::vector<std::int64_t> point_of(size_t(nv), -1);
  for (std::int64_t p = 0; p < np; ++p) point_of[size_t(mesh.point_vertex[size_t(p)])] = p;

  // The pattern: every pair of points sharing a cell (and each point with itself).
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
  pairs.reserve(size_t(nc) * size_t(k * k));
  for (std::int64_t c = 0; c < nc; ++c)
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b) {
        const std::int64_t i = point_of[size_t(mesh.cells[size_t(c * k + a)])];
        const std::int64_t j = point_of[size_t(mesh.cells[size_t(c * k + b)])];
        if (i >= 0 && j >= 0) pairs.emplace_back(i, j);
      }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<std::int64_t> row_ptr(size_t(np) + 1, 0);
  std::vector<std::int32_t> col(pairs.size());
  for (size_t e = 0; e < pairs.size(); ++e) {
    ++row_ptr[size_t(pairs[e].first) + 1];
    col[e] = std::int32_t(pairs[e].second);
  }
  for (std::int64_t i = 0; i < np; ++i) row_ptr[size_t(i) + 1] += row_ptr[size_t(i)];
  auto value_index = [&](std::int64_t i, std::int64_t j) {
    const auto begin = col.begin() + row_ptr[size_t(i)], end = col.begin() + row_ptr[size_t(i) + 1];
    return std::int64_t(std::lower_bound(begin, end, std::int32_t(j)) - col.begin());
  };

  std::vector<std::int64_t> term_value, term_cell, load_point, load_cell;
  std::vector<double> term_weight, load_weight;
  for (std::int64_t c = 0; c < nc; ++c) {
    std::array<Point2, 4> p{};
    for (int a = 0; a < k; ++a) {
      const std::int64_t v = mesh.cells[size_t(c * k + a)];
      p[size_t(a)] = {mesh.coordinates[size_t(2 * v)], mesh.coordinates[size_t(2 * v + 1)]};
    }
    double K[4][4], m[4];
    if (k == 3)
      triangle(p, K, m, int(c));
    else
      quadrilateral(p, K, m, int(c));
    for (int a = 0; a < k; ++a) {
      const std::int64_t i = point_of[size_t(mesh.cells[size_t(c * k + a)])];
      if (i < 0) continue;
      load_point.push_back(i);
      load_cell.push_back(c);
      load_weight.push_back(m[a]);
      for (int b = 0; b < k; ++b) {
        const std::int64_t j = point_of[size_t(mesh.cells[size_t(c * k + b)])];
        if (j < 0) continue;
        term_value.push_back(value_index(i, j));
        term_cell.push_back(c);
        term_weight.push_back(K[a][b]);
      }
    }
  }
  FemAssembly out;
  out.pattern = SparsePattern(np, np, int64_tensor(row_ptr), torch::tensor(col, torch::kInt32));
  out.term_value = int64_tensor(term_value);
  out.term_cell = int64_tensor(term_cell);
  out.term_weight = torch::tensor(term_weight, torch::kFloat64);
  out.load_point = int64_tensor(load_point);
  out.load_cell = int64_tensor(load_cell);
  out.load_weight = torch::tensor(load_weight, torch::kFloat64);
  out.cells = nc;
  return out;
}

namespace {
// out[b, index[t]] += field[b, cell[t]] · weight[t], in field's dtype.
torch::Tensor scatter_terms(const torch::Tensor& field, std::int64_t cells, std::int64_t size,
                            const torch::Tensor& index, const torch::Tensor& cell,
                            const torch::Tensor& weight, const char* what) {
  PINS_CHECK(field.dim() == 2 && field.size(1) == cells && field.is_floating_point(),
             "darcy_fem: ", what, " must be [B, ", cells, "] (one value per mesh cell), got ",
             field.sizes());
  // The lists are built on the host; a field on a GPU takes them along (no-ops on the CPU).
  const torch::Device at = field.device();
  const torch::Tensor terms = field.index_select(1, cell.to(at)) * weight.to(field.options());
  return torch::zeros({field.size(0), size}, field.options()).index_add(1, index.to(at), terms);
}
}  // namespace

torch::Tensor FemAssembly::values(const torch::Tensor& kappa) const {
  return scatter_terms(kappa, cells, pattern.nnz(), term_value, term_cell, term_weight, "kappa");
}

torch::Tensor FemAssembly::load(const torch::Tensor& f) const {
  return scatter_terms(f, cells, pattern.rows(), load_point, load_cell, load_weight, "f");
}

}  // namespace pins::darcy_fem
