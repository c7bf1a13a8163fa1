// The mesh graph network "gnn" and pins::MeshGraph: shapes, gradients, model file round trip,
// refusals of bad graphs and inputs, node-permutation equivariance, other meshes.
#include "helpers.hpp"

#include <limits>
#include <vector>

#include "pins/core/model_file.hpp"
#include "surrogates/graph_net.hpp"
#include "surrogates/mesh_graph.hpp"

using pins::MeshGraph;
using pins::test::dtype_of;
using pins::test::shape_of;
using pins::test::small_model;
using pins::test::TempDir;
using pins::test::throws_with;

namespace {

// The interior vertices of an m × m vertex triangulation of the unit square (each square
// split along its (+1, +1) diagonal), numbered row by row, and the CSR pattern of the P1
// operator on them (7 entries per row inside). The mesh a darcy_fem sample lives on.
struct Pattern {
  torch::Tensor row_ptr, col_idx, coordinates;
};

Pattern triangulation(int64_t m) {
  const int64_t k = m - 2, n = k * k;
  std::vector<int64_t> row_ptr{0};
  std::vector<int32_t> cols;
  std::vector<double> xy;
  const int offsets[7][2] = {{-1, -1}, {-1, 0}, {0, -1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}};
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      for (const auto& o : offsets) {
        const int64_t a = i + o[0], b = j + o[1];
        if (a >= 0 && a < k && b >= 0 && b < k) cols.push_back(static_cast<int32_t>(a * k + b));
      }
      row_ptr.push_back(static_cast<int64_t>(cols.size()));
      xy.push_back(static_cast<double>(j + 1) / (m - 1));
      xy.push_back(static_cast<double>(i + 1) / (m - 1));
    }
  }
  Pattern p;
  p.row_ptr = torch::tensor(row_ptr, torch::kInt64);
  p.col_idx = torch::tensor(cols, torch::kInt32);
  p.coordinates = torch::tensor(xy, torch::kFloat64).view({n, 2});
  return p;
}

// The graph of triangulation(m), with the unit square as its box.
MeshGraph unit_square_graph(int64_t m) {
  const Pattern p = triangulation(m);
  MeshGraph g = pins::mesh_graph_from_csr(p.row_ptr, p.col_idx, p.coordinates.to(torch::kFloat32));
  g.lower = torch::zeros({2});
  g.upper = torch::ones({2});
  return g;
}

// A small gnn with its graph set to triangulation(m).
std::shared_ptr<pins::Surrogate> small_gnn(int in, int out, int64_t m = 8) {
  auto model = small_model("gnn", in, out);
  model->set_graph(unit_square_graph(m));
  return model;
}

}  // namespace

TEST_CASE("mesh_graph_from_csr: an edge j -> i per off-diagonal entry, both directions") {
  // 3 nodes; row 0: {0, 1}, row 1: {0, 1, 2}, row 2: {2} (entry (2, 1) missing: symmetrised).
  auto row_ptr = torch::tensor(std::vector<int64_t>{0, 2, 5, 6});
  auto col_idx = torch::tensor(std::vector<int32_t>{0, 1, 0, 1, 2, 2});
  auto xy = torch::tensor(std::vector<float>{0, 0, 1, 0, 2, 1}).view({3, 2});
  MeshGraph g = pins::mesh_graph_from_csr(row_ptr, col_idx, xy);
  CHECK(g.nodes() == 3);
  // Sorted by (dst, src): 1->0, 0->1, 2->1, 1->2.
  auto expected = torch::tensor(std::vector<int64_t>{1, 0, 2, 1, 0, 1, 1, 2}).view({2, 4});
  CHECK(torch::equal(g.edges, expected));
  CHECK(torch::equal(g.coordinates, xy));
  // The P1 pattern of a triangulation: 6 neighbours inside.
  MeshGraph tri = unit_square_graph(7);
  CHECK(tri.nodes() == 25);
  CHECK(tri.edges.size(1) == 2 * (2 * 5 * 4 + 4 * 4));  // horizontal, vertical, diagonal
}

TEST_CASE("mesh_graph_from_csr refuses a malformed pattern") {
  auto xy = torch::zeros({2, 2});
  auto cols = torch::tensor(std::vector<int32_t>{0, 1, 0, 1});
  CHECK(throws_with(
      [&] {
        pins::mesh_graph_from_csr(torch::tensor(std::vector<int64_t>{0, 2, 4}).to(torch::kInt32),
                                  cols, xy);
      },
      "mesh_graph_from_csr: row_ptr must be an int64 [n + 1] tensor"));
  CHECK(throws_with(
      [&] {
        pins::mesh_graph_from_csr(torch::tensor(std::vector<int64_t>{0, 2, 3}), cols, xy);
      },
      "row_ptr must start at 0 and end at nnz = 4, got 0 and 3"));
  CHECK(throws_with(
      [&] {
        pins::mesh_graph_from_csr(torch::tensor(std::vector<int64_t>{0, 3, 2}),
                                  torch::tensor(std::vector<int32_t>{0, 1}), xy);
      },
      "row_ptr must be non-decreasing"));
  CHECK(throws_with(
      [&] {
        pins::mesh_graph_from_csr(torch::tensor(std::vector<int64_t>{0, 2, 4}),
                                  torch::tensor(std::vector<int32_t>{0, 1, 0, 2}), xy);
      },
      "col_idx entries must lie in [0, 2)"));
  CHECK(throws_with(
      [&] {
        pins::mesh_graph_from_csr(torch::tensor(std::vector<int64_t>{0, 2, 4}), cols,
                                  torch::zeros({3, 2}));
      },
      "coordinates must have shape [n, d] with n = 2 rows"));
}

TEST_CASE("gnn maps [B, Cin, n] to [B, Cout, n] in float32 and float64") {
  torch::manual_seed(11);
  auto model = small_gnn(3, 2);
  CHECK(model->type() == "gnn");
  CHECK(model->traits().mesh);
  CHECK(model->traits().dims == 0);
  const int64_t n = 36;
  for (int64_t B : {1, 4}) {
    auto y = model->forward(torch::randn({B, 3, n}));
    CHECK(shape_of(y) == shape_of({B, 2, n}));
    CHECK(dtype_of(y) == dtype_of(torch::kFloat32));
    CHECK(torch::isfinite(y).all().item<bool>());
  }
  model->module().to(torch::kFloat64);
  auto y = model->forward(torch::randn({2, 3, n}, torch::kFloat64));
  CHECK(dtype_of(y) == dtype_of(torch::kFloat64));
  // Each batch member on its own gives the same output (no mixing across the batch).
  auto x = torch::randn({3, 3, n}, torch::kFloat64);
  auto batched = model->forward(x);
  for (int64_t b = 0; b < 3; ++b) {
    const double eps = std::numeric_limits<double>::epsilon();
    CHECK(torch::allclose(batched.slice(0, b, b + 1), model->forward(x.slice(0, b, b + 1)), 0,
                          1e3 * eps));
  }
}

TEST_CASE("gradients reach every parameter of the gnn") {
  torch::manual_seed(12);
  for (const char* grid : {"4", "0"}) {
    INFO("grid " << grid);
    auto opts = pins::test::small_options("gnn");
    opts.set("-gnn_grid", grid);
    auto model = pins::make_surrogate("gnn", opts, 2, 2);
    model->set_graph(unit_square_graph(8));
    auto y = model->forward(torch::randn({2, 2, 36}));
    (y * torch::randn_like(y)).sum().backward();
    std::size_t count = 0;
    for (const auto& p : model->module().named_parameters()) {
      INFO("parameter " << p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().max().item<double>() > 0);
      ++count;
    }
    CHECK(count > 0);
  }
}

TEST_CASE("gnn survives a model file round trip; the graph is given again after loading") {
  torch::manual_seed(13);
  TempDir dir;
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    INFO("dtype " << dtype);
    auto model = small_gnn(2, 1);
    model->module().to(dtype);
    const std::string path = dir.file("gnn.pins");
    pins::save_model(path, *model, pins::ModelManifest{}, /*force=*/true);
    pins::LoadedModel loaded = pins::load_model(path);
    CHECK(loaded.model->type() == "gnn");
    CHECK(loaded.manifest.architecture_options == model->options_json());
    CHECK(throws_with(
        [&] {
          loaded.model->forward(torch::randn({1, 2, 36}, dtype));
        },
        "gnn: no mesh graph: call set_graph(graph) before forward"));
    loaded.model->set_graph(unit_square_graph(8));
    auto x = torch::randn({2, 2, 36}, dtype);
    model->module().eval();
    CHECK(torch::equal(loaded.model->forward(x), model->forward(x)));
  }
}

TEST_CASE("a gnn clone keeps its graph and is independent") {
  torch::manual_seed(14);
  auto model = small_gnn(1, 1);
  auto copy = std::dynamic_pointer_cast<pins::Surrogate>(model->module().clone());
  REQUIRE(copy != nullptr);
  auto x = torch::randn({1, 1, 36});
  CHECK(torch::equal(copy->forward(x), model->forward(x)));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : copy->module().parameters()) p.add_(1.0);
  }
  CHECK_FALSE(torch::equal(copy->forward(x), model->forward(x)));
}

TEST_CASE("gnn refuses bad graphs and inputs with a message naming the problem") {
  auto model = small_model("gnn", 2, 1);
  const MeshGraph good = unit_square_graph(6);  // 16 nodes
  auto with = [&](auto change) {
    MeshGraph g = good;
    change(g);
    return [model, g] { model->set_graph(g); };
  };
  CHECK(throws_with(with([](MeshGraph& g) { g.coordinates = torch::Tensor(); }),
                    "gnn: mesh graph has no coordinates"));
  CHECK(throws_with(with([](MeshGraph& g) {
                      g.coordinates = torch::rand({16, 3});
                    }),
                    "gnn: mesh graph coordinates must have shape [n, 2] with n >= 1, got [16, 3]"));
  CHECK(throws_with(with([](MeshGraph& g) { g.coordinates = g.coordinates.to(torch::kInt64); }),
                    "gnn: mesh graph coordinates must be floating, got Long"));
  // (MeshGraph copies share tensors: change a clone, not `good`.)
  CHECK(throws_with(with([](MeshGraph& g) {
                      g.coordinates = g.coordinates.clone();
                      g.coordinates[3][1] = NAN;
                    }),
                    "gnn: mesh graph coordinates must be finite"));
  CHECK(throws_with(with([](MeshGraph& g) { g.edges = g.edges.to(torch::kInt32); }),
                    "gnn: mesh graph edges must be an int64 [2, E] tensor (src, dst), got Int"));
  CHECK(throws_with(with([](MeshGraph& g) { g.edges = g.edges.t().contiguous(); }),
                    "gnn: mesh graph edges must be an int64 [2, E] tensor"));
  CHECK(throws_with(with([](MeshGraph& g) { g.edges = g.edges.clone(), g.edges[0][0] = 16; }),
                    "gnn: mesh graph edge indices must lie in [0, 16) (n = the coordinates' "
                    "rows), got [0, 16]"));
  CHECK(throws_with(with([](MeshGraph& g) {
                      g.edges = torch::cat({g.edges, torch::full({2, 1}, 3, torch::kInt64)}, 1);
                    }),
                    "gnn: mesh graph edges must not contain self loops"));
  CHECK(throws_with(with([](MeshGraph& g) { g.edges = g.edges.slice(1, 1); }),
                    "gnn: mesh graph edges must contain both directions of every edge"));
  CHECK(throws_with(with([](MeshGraph& g) { g.upper = torch::Tensor(); }),
                    "gnn: mesh graph lower and upper must be given together"));
  CHECK(throws_with(with([](MeshGraph& g) { g.upper = torch::ones({3}); }),
                    "gnn: mesh graph upper must be a floating [2] tensor"));
  CHECK(throws_with(with([](MeshGraph& g) { g.upper = torch::zeros({2}); }),
                    "gnn: mesh graph box must have upper > lower on every axis"));
  CHECK(throws_with(with([](MeshGraph& g) {
                      g.lower = g.upper = torch::Tensor();
                      g.coordinates = g.coordinates.clone();
                      g.coordinates.select(1, 1).fill_(0.5);
                    }),
                    "(the nodes' bounding box is flat: give lower and upper)"));
  // Inputs: shape, node count, dtype.
  model->set_graph(good);
  CHECK(throws_with(
      [&] {
        model->forward(torch::randn({1, 2, 15}));
      },
      "gnn: input must have shape [B, 2, n] with n = 16 (the mesh graph's nodes), "
      "got [1, 2, 15]"));
  CHECK(throws_with(
      [&] {
        model->forward(torch::randn({1, 1, 16}));
      },
      "gnn: input must have shape [B, 2, n]"));
  CHECK(throws_with(
      [&] {
        model->forward(torch::randn({1, 2, 4, 4}));
      },
      "gnn: input must have shape [B, 2, n]"));
  CHECK(throws_with(
      [&] {
        model->forward(torch::ones({1, 2, 16}, torch::kInt64));
      },
      "gnn: input must be float32 or float64, got Long"));
  // A grid architecture takes no graph; a bad option is named.
  CHECK(throws_with([&] { small_model("fno", 1, 1)->set_graph(good); },
                    "fno: runs on grids, not on a mesh graph"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("gnn", pins::OptionMap{{"-gnn_grid", "1"}}, 1, 1);
      },
      "gnn: grid must be 0 (no grid path) or at least 2, got 1 (-gnn_grid)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("gnn", pins::OptionMap{{"-gnn_dims", "1"}}, 1, 1);
      },
      "gnn: dims must be 2 or 3, got 1 (-gnn_dims)"));
}

TEST_CASE("gnn is equivariant under renumbering the nodes") {
  torch::manual_seed(15);
  auto model = small_model("gnn", 2, 2);
  model->module().to(torch::kFloat64);
  MeshGraph g = unit_square_graph(9);  // 49 nodes
  g.coordinates = g.coordinates.to(torch::kFloat64);
  const int64_t n = g.nodes();
  // New node k is old node perm[k]; the edges are renamed and shuffled too.
  auto perm = torch::randperm(n, torch::kInt64);
  auto inverse = torch::empty_like(perm);
  inverse.index_put_({perm}, torch::arange(n, torch::kInt64));
  MeshGraph p = g;
  p.coordinates = g.coordinates.index_select(0, perm);
  p.edges = inverse.index({g.edges}).index_select(1, torch::randperm(g.edges.size(1)));
  auto x = torch::randn({2, 2, n}, torch::kFloat64);
  model->set_graph(g);
  auto y = model->forward(x);
  model->set_graph(p);
  auto yp = model->forward(x.index_select(2, perm));
  // Only the summation order of the aggregations differs.
  const double eps = std::numeric_limits<double>::epsilon();
  CHECK(torch::allclose(yp, y.index_select(2, perm), 0, 1e4 * eps * y.abs().max().item<double>()));
}

TEST_CASE("gnn runs on other meshes with the same weights, in 2-D and 3-D") {
  torch::manual_seed(16);
  auto model = small_model("gnn", 1, 1);
  for (int64_t m : {6, 12, 25}) {
    INFO("mesh " << m << " x " << m);
    model->set_graph(unit_square_graph(m));
    const int64_t n = (m - 2) * (m - 2);
    CHECK(std::dynamic_pointer_cast<pins::GraphNetImpl>(model)->graph_nodes() == n);
    auto y = model->forward(torch::randn({2, 1, n}));
    CHECK(shape_of(y) == shape_of({2, 1, n}));
    CHECK(torch::isfinite(y).all().item<bool>());
  }
  // Without a box: the nodes' own bounding box.
  MeshGraph g = unit_square_graph(10);
  g.lower = g.upper = torch::Tensor();
  model->set_graph(g);
  CHECK(torch::isfinite(model->forward(torch::randn({1, 1, 64}))).all().item<bool>());
  // 3-D: the 6-neighbour graph of a 5 × 4 × 3 point lattice.
  auto opts = pins::test::small_options("gnn");
  opts.set("-gnn_dims", "3");
  auto model3 = pins::make_surrogate("gnn", opts, 2, 1);
  const int64_t nx = 5, ny = 4, nz = 3, n = nx * ny * nz;
  std::vector<int64_t> src, dst;
  std::vector<float> xyz;
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t j = 0; j < ny; ++j)
      for (int64_t i = 0; i < nx; ++i) {
        const int64_t a = (k * ny + j) * nx + i;
        xyz.insert(xyz.end(), {float(i), float(j), float(k)});
        for (int64_t b :
             {i + 1 < nx ? a + 1 : -1, j + 1 < ny ? a + nx : -1, k + 1 < nz ? a + nx * ny : -1}) {
          if (b < 0) continue;
          src.insert(src.end(), {a, b});
          dst.insert(dst.end(), {b, a});
        }
      }
  MeshGraph g3;
  g3.coordinates = torch::tensor(xyz).view({n, 3});
  g3.edges = torch::stack({torch::tensor(src), torch::tensor(dst)});
  model3->set_graph(g3);
  auto y3 = model3->forward(torch::randn({2, 2, n}));
  CHECK(shape_of(y3) == shape_of({2, 1, n}));
  CHECK(torch::isfinite(y3).all().item<bool>());
  CHECK(throws_with([&] { model->set_graph(g3); },
                    "gnn: mesh graph coordinates must have shape [n, 2]"));
}

TEST_CASE("the grid path gives one block a global reach; message passing alone reaches one hop") {
  // An elliptic solution depends on the data everywhere: with the grid path a change of the
  // input at one corner node moves the output at the opposite corner, beyond the one edge
  // one block's messages travel.
  torch::manual_seed(17);
  for (const char* grid : {"4", "0"}) {
    INFO("grid " << grid);
    auto opts = pins::test::small_options("gnn");
    opts.set("-gnn_grid", grid);
    opts.set("-gnn_layers", "1");
    auto model = pins::make_surrogate("gnn", opts, 1, 1);
    model->module().to(torch::kFloat64);
    model->set_graph(unit_square_graph(10));  // 64 nodes; node 0 at (1/9, 1/9), 63 opposite
    auto x = torch::randn({1, 1, 64}, torch::kFloat64);
    auto y = model->forward(x);
    auto x2 = x.clone();
    x2[0][0][0] += 1.0;
    auto y2 = model->forward(x2);
    const double far = (y2[0][0][63] - y[0][0][63]).abs().item<double>();
    if (std::string(grid) == "0") {
      CHECK(far == 0.0);
    } else {
      CHECK(far > 1e-8);
    }
  }
}
