// The Kokkos CSR operator against a dense LibTorch reference, its adjoint, its gradients
// (finite differences in double precision), batches, float32, rectangular patterns and bad
// input.
#include "doctest_torch.hpp"

#include <algorithm>
#include <random>
#include <set>

#include "pins/core/sparse_operator.hpp"
#include "src/core/sparse_launch.hpp"  // the gather kernel, to compare the fused path with
#include "test_helpers.hpp"

using pins::SparseOperator;
using pins::SparsePattern;
using pins::test::eps_of;
using pins::test::opts;
using pins::test::throws_with;

namespace {

// A random pattern: each row gets a random subset of columns (some rows empty); for square
// patterns most rows hold their diagonal, a few do not.
SparsePattern random_pattern(int64_t rows, int64_t cols, double density, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::vector<int64_t> rp{0}, ci;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const bool diag = i == j && uni(gen) < 0.9;
      if (diag || uni(gen) < density) ci.push_back(j);
    }
    rp.push_back(static_cast<int64_t>(ci.size()));
  }
  return SparsePattern(rows, cols, torch::tensor(rp, torch::kInt64).to(opts().device()),
                       torch::tensor(ci, torch::kInt64).to(opts().device()));
}

// Dense [B, rows, cols] float64 matrices of the batch (values [B or 1, nnz]).
torch::Tensor dense(const SparsePattern& p, const torch::Tensor& values) {
  const auto v = values.to(torch::kCPU, torch::kFloat64);
  auto d = torch::zeros({v.size(0), p.rows(), p.cols()}, torch::kFloat64);
  const auto r = p.row_indices().cpu();
  const auto c = p.col_idx().to(torch::kCPU, torch::kInt64);
  for (int64_t b = 0; b < v.size(0); ++b) d[b].index_put_({r, c}, v[b]);
  return d;
}

// [B, rows] = dense A (broadcast over B) times u [B, cols], in float64 on the CPU.
torch::Tensor dense_apply(const torch::Tensor& A, const torch::Tensor& u) {
  return torch::matmul(A, u.to(torch::kCPU, torch::kFloat64).unsqueeze(-1)).squeeze(-1);
}

// The standard bound on a sum of n products: n·eps·Σ|a||u| per row (plus eps for f).
torch::Tensor row_bound(const torch::Tensor& A, const torch::Tensor& u, int64_t n,
                        torch::ScalarType t) {
  return double(n + 2) * eps_of(t) * (dense_apply(A.abs(), u.abs()) + 1e-300);
}

int64_t max_row_nnz(const SparsePattern& p) {
  const auto rp = p.row_ptr().cpu();
  return p.rows() == 0 ? 0 : (rp.slice(0, 1) - rp.slice(0, 0, p.rows())).max().item<int64_t>();
}
int64_t max_col_nnz(const SparsePattern& p) {
  const auto tp = p.transpose_ptr().cpu();
  return p.cols() == 0 ? 0 : (tp.slice(0, 1) - tp.slice(0, 0, p.cols())).max().item<int64_t>();
}

bool within(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& bound) {
  return (got.to(torch::kCPU, torch::kFloat64) - want).abs().le(bound).all().item<bool>();
}

struct Case {
  int64_t B, Bv, rows, cols;
  double density;
};
const Case kCases[] = {{1, 1, 1, 1, 1.0},   {2, 2, 7, 5, 0.4},    {3, 3, 5, 9, 0.3},
                       {4, 1, 30, 30, 0.2}, {2, 2, 64, 64, 0.05}, {1, 1, 3, 4, 0.0},
                       {5, 5, 40, 17, 0.3}};

}  // namespace

TEST_CASE("sparse_apply, sparse_residual and the transpose match a dense reference") {
  torch::manual_seed(3);
  unsigned seed = 1;
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (const Case& c : kCases) {
      CAPTURE(dtype);
      CAPTURE(c.rows);
      CAPTURE(c.cols);
      CAPTURE(c.B);
      CAPTURE(c.Bv);
      const SparsePattern p = random_pattern(c.rows, c.cols, c.density, seed++);
      const auto values = torch::randn({c.Bv, p.nnz()}, opts(dtype));
      const auto u = torch::randn({c.B, c.cols}, opts(dtype));
      const auto f = torch::randn({c.B, c.rows}, opts(dtype));
      const auto v = torch::randn({c.B, c.rows}, opts(dtype));
      const auto A = dense(p, values);

      const auto Au = pins::sparse_apply(p, values, u);
      CHECK(Au.size(0) == c.B);
      CHECK(Au.size(1) == c.rows);
      CHECK(bool(Au.scalar_type() == dtype));
      const auto bound = row_bound(A, u, max_row_nnz(p), dtype);
      CHECK(within(Au, dense_apply(A, u), bound));
      const auto r = pins::sparse_residual(p, values, u, f);
      CHECK(within(r, dense_apply(A, u) - f.to(torch::kCPU, torch::kFloat64),
                   bound + 2 * eps_of(dtype) * f.abs().cpu().to(torch::kFloat64)));

      const auto At = A.transpose(1, 2);
      const auto Atv = pins::sparse_apply_transpose(p, values, v);
      CHECK(Atv.size(0) == c.B);
      CHECK(Atv.size(1) == c.cols);
      CHECK(within(Atv, dense_apply(At, v), row_bound(At, v, max_col_nnz(p), dtype)));

      // Adjoint: <A u, v> = <u, Aᵀ v>, both sides in float64 from the kernels' outputs.
      const double lhs = (Au.to(torch::kFloat64) * v.to(torch::kFloat64)).sum().item<double>();
      const double rhs = (u.to(torch::kFloat64) * Atv.to(torch::kFloat64)).sum().item<double>();
      const double scale =
          (dense_apply(A.abs(), u.abs()) * v.abs().cpu().to(torch::kFloat64)).sum().item<double>();
      CHECK(std::abs(lhs - rhs) <=
            2.0 * double(std::max(max_row_nnz(p), max_col_nnz(p)) + 2) * eps_of(dtype) * scale +
                1e-300);
    }
}

TEST_CASE("sparse_values_gradient is g[row] u[col] per entry, summed for shared values") {
  torch::manual_seed(4);
  const SparsePattern p = random_pattern(20, 13, 0.3, 7);
  const auto g = torch::randn({3, 20}, opts());
  const auto u = torch::randn({3, 13}, opts());
  const auto rows = p.row_indices();
  const auto cols = p.col_idx().to(torch::kInt64);
  const auto want = g.index_select(1, rows) * u.index_select(1, cols);
  // One rounding (a single product): equal bit for bit.
  CHECK(torch::equal(pins::sparse_values_gradient(p, g, u), want));
  const auto summed = pins::sparse_values_gradient(p, g, u, true);
  CHECK(summed.size(0) == 1);
  CHECK(summed.size(1) == p.nnz());
  CHECK(within(summed, want.sum(0, true).cpu(),
               4 * eps_of(torch::kFloat64) * want.abs().sum(0, true).cpu()));
}

TEST_CASE("sparse autograd: backward gives Aᵀg, g[row]u[col] and -g") {
  torch::manual_seed(5);
  for (int64_t Bv : {3, 1}) {
    CAPTURE(Bv);
    const SparsePattern p = random_pattern(11, 11, 0.3, 9);
    const auto values = torch::randn({Bv, p.nnz()}, opts()).requires_grad_();
    const auto u = torch::randn({3, 11}, opts()).requires_grad_();
    const auto f = torch::randn({3, 11}, opts()).requires_grad_();
    const auto g = torch::randn({3, 11}, opts());
    pins::sparse_residual(p, values, u, f).backward(g);
    const double tol = 16 * eps_of(torch::kFloat64) * 10;
    CHECK(torch::allclose(u.grad(), pins::sparse_apply_transpose(p, values.detach(), g), tol, tol));
    CHECK(torch::allclose(values.grad(), pins::sparse_values_gradient(p, g, u.detach(), Bv == 1),
                          tol, tol));
    CHECK(torch::equal(f.grad(), -g));
  }
}

TEST_CASE("sparse kernels: batch lanes, row blocks and the fused backward change no bit") {
  // The kernels take the batch in lanes of up to 4 operators and the rows in blocks, and on a
  // single host thread the backward pass is one fused scatter sweep. Every sum keeps the
  // order of its entries, so all of that must be invisible: each operator of a batch gives
  // exactly what it gives alone, and autograd's gradients equal the stand-alone gather
  // kernels (detail::sparse_launch_transpose, sparse_values_gradient) bit for bit.
  torch::manual_seed(8);
  const SparsePattern p = random_pattern(700, 650, 0.02, 21);  // several row blocks
  for (auto dtype : {torch::kFloat64, torch::kFloat32})
    for (int64_t B : {1, 2, 3, 4, 5, 7, 9})
      for (bool shared : {false, true}) {
        CAPTURE(dtype);
        CAPTURE(B);
        CAPTURE(shared);
        const auto values = torch::randn({shared ? 1 : B, p.nnz()}, opts(dtype));
        const auto u = torch::randn({B, p.cols()}, opts(dtype));
        const auto f = torch::randn({B, p.rows()}, opts(dtype));
        const auto g = torch::randn({B, p.rows()}, opts(dtype));
        const auto r = pins::sparse_residual(p, values, u, f);
        for (int64_t b = 0; b < B; ++b) {
          const auto vb = shared ? values : values.slice(0, b, b + 1);
          CHECK(torch::equal(r.slice(0, b, b + 1),
                             pins::sparse_residual(p, vb, u.slice(0, b, b + 1),
                                                   f.slice(0, b, b + 1))));
          CHECK(torch::equal(
              pins::sparse_apply_transpose(p, values, g).slice(0, b, b + 1),
              pins::sparse_apply_transpose(p, vb, g.slice(0, b, b + 1))));
        }
        const auto want_u = pins::detail::sparse_launch_transpose(p, values, g);  // the gather
        CHECK(torch::equal(pins::sparse_apply_transpose(p, values, g), want_u));
        const auto want_v = pins::sparse_values_gradient(p, g, u, shared && B > 1);
        for (int which = 0; which < 3; ++which) {  // both, u only, values only
          CAPTURE(which);
          const auto vg = values.clone().requires_grad_(which != 1);
          const auto ug = u.clone().requires_grad_(which != 2);
          pins::sparse_apply(p, vg, ug).backward(g);
          if (which != 2) CHECK(torch::equal(ug.grad(), want_u));
          if (which != 1) CHECK(torch::equal(vg.grad(), want_v));
        }
      }
}

TEST_CASE("sparse autograd: finite-difference gradient check in double precision") {
  // L = Σ w ⊙ (A u − f)² is quadratic in each of u, values and f separately, so a central
  // difference has no truncation error: only rounding, ~ eps |L| / h.
  torch::manual_seed(6);
  const SparsePattern p = random_pattern(9, 7, 0.4, 11);
  const auto values = torch::randn({2, p.nnz()}, opts()).requires_grad_();
  const auto u = torch::randn({2, 7}, opts()).requires_grad_();
  const auto f = torch::randn({2, 9}, opts()).requires_grad_();
  const auto w = torch::rand({2, 9}, opts());
  auto loss = [&] { return (w * pins::sparse_residual(p, values, u, f).square()).sum(); };
  loss().backward();
  const double h = 1e-3;
  torch::NoGradGuard no_grad;
  const double scale = loss().abs().item<double>() + 1.0;
  const double tol = 64 * eps_of(torch::kFloat64) * scale / h;
  for (const torch::Tensor* x : {&values, &u, &f}) {
    const auto grad = x->grad().flatten().cpu();
    auto flat = x->detach().view({-1});  // shares memory with *x
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double x0 = flat[i].item<double>();
      flat[i] = x0 + h;
      const double lp = loss().item<double>();
      flat[i] = x0 - h;
      const double lm = loss().item<double>();
      flat[i] = x0;
      CHECK(std::abs((lp - lm) / (2 * h) - grad[i].item<double>()) <= tol);
    }
  }
}

TEST_CASE("SparseOperator implements pins::Operator") {
  torch::manual_seed(7);
  const SparsePattern p = random_pattern(25, 25, 0.15, 13);
  const auto values = torch::randn({2, p.nnz()}, opts()).requires_grad_();
  const auto op = std::make_shared<SparseOperator>(p, values);
  const pins::Operator& A = *op;
  CHECK(A.kind() == "sparse");
  CHECK(A.batch() == 2);
  CHECK(A.field_shape().size() == 1);
  CHECK(A.field_shape()[0] == 25);
  CHECK(A.values().is_same(values));
  CHECK(A.describe().find("25 x 25") != std::string::npos);
  const auto u = torch::randn({2, 25}, opts());
  const auto f = torch::randn({2, 25}, opts());
  CHECK(torch::equal(A.apply(u), pins::sparse_apply(p, values, u)));
  CHECK(torch::equal(A.residual(u, f), pins::sparse_residual(p, values, u, f)));
  CHECK(torch::equal(A.apply_transpose(f), pins::sparse_apply_transpose(p, values, f)));

  // diagonal(): the stored (i, i) entries, 0 where the pattern has none; differentiable.
  const auto d = A.diagonal();
  const auto want = torch::diagonal(dense(p, values.detach()), 0, 1, 2);
  CHECK(torch::equal(d.cpu().to(torch::kFloat64), want));
  const auto missing = (p.diagonal_index() < 0).sum().item<int64_t>();
  CHECK(missing > 0);  // the random pattern leaves some diagonals out
  d.sum().backward();
  CHECK(values.grad().sum().item<double>() == doctest::Approx(2.0 * double(25 - missing)));

  // check_finite() names the entry; the constructor does not scan.
  auto bad = values.detach().clone();
  bad[1][3] = std::numeric_limits<double>::quiet_NaN();
  SparseOperator with_nan(p, bad);
  const int64_t row = p.row_indices()[3].item<int64_t>();
  const int64_t col = p.col_idx()[3].item<int64_t>();
  CHECK(throws_with(
      [&] { with_nan.check_finite(); },
      "operator 1 has nan at row " + std::to_string(row) + ", column " + std::to_string(col)));
  bad[1][3] = std::numeric_limits<double>::infinity();
  CHECK(throws_with([&] { SparseOperator(p, bad).check_finite(); }, "has inf"));
  op->check_finite();
}

TEST_CASE("SparsePattern refuses malformed CSR arrays") {
  auto L = [](std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); };
  CHECK(throws_with(
      [&] {
        SparsePattern(2, 2, L({0, 1}), L({0}));
      },
      "row_ptr must have rows + 1 = 3 entries, got 2"));
  CHECK(throws_with(
      [&] {
        SparsePattern(2, 2, L({1, 1, 2}), L({0, 1}));
      },
      "row_ptr[0] must be 0, got 1"));
  CHECK(throws_with(
      [&] {
        SparsePattern(2, 2, L({0, 1, 1}), L({0, 1}));
      },
      "row_ptr[rows] = 1 must equal the number of column indices, 2"));
  CHECK(throws_with(
      [&] {
        SparsePattern(3, 2, L({0, 2, 1, 2}), L({0, 1}));
      },
      "row_ptr must not decrease"));
  CHECK(throws_with(
      [&] {
        SparsePattern(2, 2, L({0, 1, 2}), L({0, 2}));
      },
      "row 1 has column index 2 outside [0, 2)"));
  CHECK(throws_with(
      [&] {
        SparsePattern(2, 2, L({0, 1, 2}), L({-1, 0}));
      },
      "row 0 has column index -1"));
  CHECK(throws_with(
      [&] {
        SparsePattern(1, 3, L({0, 2}), L({2, 1}));
      },
      "must be strictly increasing (sorted, no duplicates), got 2 then 1"));
  CHECK(throws_with([&] { SparsePattern(1, 3, L({0, 2}), L({1, 1})); }, "got 1 then 1"));
  CHECK(throws_with([&] { SparsePattern(-1, 2, L({0}), L({})); }, "rows and cols must be >= 0"));
  CHECK(throws_with(
      [&] {
        SparsePattern(1, 1, torch::tensor({0.0, 1.0}), L({0}));
      },
      "row_ptr must be an integer tensor"));
  CHECK(throws_with(
      [&] {
        SparsePattern(1, 1, L({0, 1}), torch::zeros({1, 1}, torch::kInt64));
      },
      "col_idx must be one-dimensional"));
  CHECK(throws_with([&] { SparsePattern(1, 1, torch::Tensor(), L({0})); },
                    "row_ptr is an undefined tensor"));
  // int32 inputs are accepted; patterns compare by content.
  const SparsePattern a(2, 2, torch::tensor({0, 1, 2}, torch::kInt32),
                        torch::tensor({1, 0}, torch::kInt32));
  const SparsePattern b(2, 2, L({0, 1, 2}), L({1, 0}));
  const SparsePattern c(2, 2, L({0, 1, 2}), L({0, 1}));
  CHECK(a == b);
  CHECK(a != c);
  CHECK(SparsePattern(2, 3, L({0, 1, 2}), L({1, 0})) != b);
}

TEST_CASE("sparse operators refuse mismatched shapes, dtypes and layouts") {
  const SparsePattern p = random_pattern(6, 4, 0.5, 17);
  const auto values = torch::randn({2, p.nnz()}, opts());
  const auto u = torch::randn({2, 4}, opts());
  const auto f = torch::randn({2, 6}, opts());
  CHECK(throws_with([&] { pins::sparse_apply(p, values.slice(1, 1), u); },
                    "values must have shape [B, nnz] = [B, " + std::to_string(p.nnz()) + "]"));
  CHECK(throws_with([&] { pins::sparse_apply(p, values.to(torch::kInt64), u); },
                    "values must be float32 or float64"));
  CHECK(throws_with([&] { pins::sparse_apply(p, values, u.to(torch::kFloat32)); },
                    "u has dtype Float but values have Double"));
  CHECK(throws_with(
      [&] {
        pins::sparse_apply(p, values, torch::randn({2, 5}, opts()));
      },
      "u must have shape [B, cols] = [B, 4], got [2, 5]"));
  CHECK(throws_with(
      [&] {
        pins::sparse_apply(p, values, torch::randn({3, 4}, opts()));
      },
      "u has a batch of 3 but values [2, " + std::to_string(p.nnz()) + "] have 2"));
  CHECK(throws_with(
      [&] {
        pins::sparse_apply(p, values, torch::randn({4, 2}, opts()).t());
      },
      "u must be contiguous"));
  CHECK(throws_with([&] { pins::sparse_apply(p, values, torch::Tensor()); },
                    "u is an undefined tensor"));
  CHECK(throws_with(
      [&] {
        pins::sparse_residual(p, values, u, torch::randn({2, 4}, opts()));
      },
      "f must have shape [B, rows] = [2, 6], got [2, 4]"));
  CHECK(throws_with([&] { pins::sparse_residual(p, values, u, torch::Tensor()); },
                    "f is an undefined tensor"));
  CHECK(throws_with([&] { pins::sparse_apply_transpose(p, values, u); },
                    "v must have shape [B, rows] = [B, 6], got [2, 4]"));
  CHECK(throws_with(
      [&] {
        pins::sparse_values_gradient(p, f, torch::randn({3, 4}, opts()));
      },
      "u must have shape [B, cols] = [2, 4] (the batch of g)"));
  CHECK(throws_with([&] { SparseOperator(p, values); }, "the pattern must be square"));
  const SparsePattern sq = random_pattern(4, 4, 0.5, 19);
  CHECK(throws_with(
      [&] {
        SparseOperator(sq, torch::randn({2, sq.nnz() + 1}, opts()));
      },
      "values must have shape [B, nnz]"));
  SparseOperator op(sq, torch::randn({2, sq.nnz()}, opts()));
  CHECK(throws_with([&] { op.apply(torch::randn({2, 5}, opts())); }, "u must have shape"));
  if (pins::kokkos_uses_host_memory()) {
    // Tensors on another device than Kokkos' are refused, not read through a bad pointer.
    CHECK(
        throws_with([&] { pins::sparse_apply(p, values.to(torch::kFloat64).to(torch::kMeta), u); },
                    "but Kokkos runs on"));
  }
}
