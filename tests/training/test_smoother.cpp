// The learned sparse smoother (pins/core/smoother.hpp, smoother_train.hpp): the CSR form of
// stencil operators, M symmetric positive definite by construction, Jacobi as a special case,
// features that do not depend on how rows are split over processes, the loss against a dense
// computation and its gradient, bad input, and training that beats Jacobi.
#include <cmath>

#include "helpers.hpp"
#include "smoother_helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/smoother.hpp"
#include "pins/core/smoother_inference.hpp"
#include "pins/core/smoother_train.hpp"
#include "pins/core/sparse_operator.hpp"
#include "pins/core/stencil_operator.hpp"

using namespace pins;
using namespace pins::test;


TEST_CASE("stencil_to_csr applies as the stencil operator does (2-D, 3-D, box with dof 2)") {
  const Stencil shapes[] = {{2, StencilShape::kStar, 1, 1},
                            {3, StencilShape::kStar, 1, 1},
                            {2, StencilShape::kBox, 1, 2}};
  for (const Stencil& s : shapes) {
    INFO(s.describe());
    std::vector<int64_t> shape{2, s.channels()};
    std::vector<int64_t> field{2};
    if (s.dof > 1) field.push_back(s.dof);
    for (int d = 0; d < s.dim; ++d) shape.push_back(5 + d), field.push_back(5 + d);
    const StencilOperator A(s, torch::randn(shape, torch::kFloat64));
    const auto [pattern, values] = stencil_to_csr(A);
    const torch::Tensor u = torch::randn(field, torch::kFloat64);
    const torch::Tensor want = A.apply(u).reshape({2, -1});
    const torch::Tensor got = sparse_apply(pattern, values, u.reshape({2, -1}).contiguous());
    CHECK(torch::allclose(got, want, 1e-12, 1e-12));
  }
}

TEST_CASE("M is symmetric positive definite for a symmetric A, and Jacobi is one choice") {
  const SmootherBatch b = sample_smoother_batch(operator_kinds(), 2, 6, 4, 3, 0);
  auto model = small_smoother(1);
  torch::NoGradGuard no_grad;
  const torch::Tensor m = smoother_apply_model(*model, b.pattern, b.values);
  for (int i = 0; i < 4; ++i) {
    const torch::Tensor M = dense_of(b.pattern, m[i]);
    CHECK(torch::allclose(M, M.t(), 1e-13, 1e-13));
    CHECK(torch::linalg_eigvalsh(M, "L").min().item<double>() > 0);
  }
  // Output 0 off the diagonal and softplus⁻¹(1) on it gives M = D⁻¹.
  const torch::Tensor d = sparse_diagonal(b.pattern, b.values);
  torch::Tensor y0 = torch::zeros({4, 1, b.pattern.nnz()}, torch::kFloat64);
  y0.index_put_({torch::indexing::Slice(), 0, b.pattern.diagonal_index()}, std::log(std::exp(1.0) - 1));
  const torch::Tensor j0 = smoother_values(b.pattern, d, y0);
  for (int i = 0; i < 4; ++i)
    CHECK(torch::allclose(dense_of(b.pattern, j0[i]), torch::diag(d[i].reciprocal()), 1e-14, 1e-14));
}

TEST_CASE("M's values are the same with and without autograd (training and a PC's set-up)") {
  // smoother_values has a LibTorch form (training differentiates through it) and a loop (a
  // PC's set-up, no gradient): the same M, including where softplus switches to the identity.
  const SmootherBatch b = sample_smoother_batch(operator_kinds(), 3, 5, 3, 7, 0);
  const torch::Tensor d = sparse_diagonal(b.pattern, b.values);
  torch::Tensor y = 3 * torch::randn({3, 1, b.pattern.nnz()}, torch::kFloat64);
  y.index_put_({0, 0, b.pattern.diagonal_index()[0]}, 25.0);  // above softplus's threshold
  const torch::Tensor with_grad = smoother_values(b.pattern, d, y.clone().requires_grad_(true));
  CHECK(with_grad.requires_grad());
  torch::NoGradGuard no_grad;
  const torch::Tensor loop = smoother_values(b.pattern, d, y);
  CHECK(torch::allclose(loop, with_grad.detach(), 1e-14, 1e-14));
}

TEST_CASE("features and values do not depend on how the rows are split over processes") {
  // The rows k..n-1 of one operator as a process would hold them: own columns first (the
  // rows' own unknowns), then the ghosts 0..k-1; ghost diagonals and statistics passed in.
  const SmootherBatch b = sample_smoother_batch({"lognormal"}, 2, 6, 1, 5, 0);
  const SparsePattern& p = b.pattern;
  const int64_t n = p.rows(), k = 14, own = n - k;
  auto model = small_smoother(2);
  torch::NoGradGuard no_grad;
  const torch::Tensor d = sparse_diagonal(p, b.values);
  const torch::Tensor whole = smoother_apply_model(*model, p, b.values);
  const torch::Tensor stats = smoother_row_statistics(p, b.values, d);

  const torch::Tensor rp = p.row_ptr(), ci = p.col_idx().to(torch::kInt64);
  const int64_t first = rp[k].item<int64_t>(), nnz = p.nnz() - first;
  torch::Tensor local_col = ci.narrow(0, first, nnz);
  local_col = torch::where(local_col >= k, local_col - k, local_col + own);
  // Sort each row by its local column (the pattern needs increasing columns).
  std::vector<int64_t> order;
  std::vector<int64_t> new_cols;
  const torch::Tensor lrp = rp.narrow(0, k, own + 1) - first;
  for (int64_t i = 0; i < own; ++i) {
    const int64_t s = lrp[i].item<int64_t>(), e = lrp[i + 1].item<int64_t>();
    std::vector<int64_t> idx;
    for (int64_t t = s; t < e; ++t) idx.push_back(t);
    std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t c) {
      return local_col[a].item<int64_t>() < local_col[c].item<int64_t>();
    });
    for (int64_t t : idx) order.push_back(t), new_cols.push_back(local_col[t].item<int64_t>());
  }
  const torch::Tensor perm = torch::tensor(order, torch::kInt64);
  const SparsePattern lp(own, n, lrp.contiguous(), torch::tensor(new_cols, torch::kInt64));
  const torch::Tensor lvals = b.values.narrow(1, first, nnz).index_select(1, perm).contiguous();
  // Column arrays in local numbering: own (k..n-1) then ghosts (0..k-1).
  const torch::Tensor to_global = torch::cat({torch::arange(k, n), torch::arange(0, k)});
  const torch::Tensor ld = d.index_select(1, to_global);
  const torch::Tensor lstats_own = smoother_row_statistics(lp, lvals, ld);
  CHECK(torch::allclose(lstats_own, stats.narrow(2, k, own), 1e-14, 1e-14));
  const torch::Tensor lstats = stats.index_select(2, to_global);
  const torch::Tensor x = smoother_features(lp, lvals, ld, lstats);
  const torch::Tensor lm = smoother_values(lp, ld, model->forward(x));
  const torch::Tensor want = whole.narrow(1, first, nnz).index_select(1, perm);
  CHECK(torch::allclose(lm, want, 1e-13, 1e-13));
  // A PC's blocked, pair-sharing set-up path gives the same M (ghost entries never share).
  const SmootherInference r = smoother_infer(*model, lp, lvals, ld, lstats);
  CHECK(torch::allclose(r.values, want, 1e-13, 1e-13));
  CHECK(r.evaluated < lp.nnz());
}

TEST_CASE("a PC's set-up path: M as the batched path gives it, one network run per pair") {
  SmootherBatch b = sample_smoother_batch({"darcy"}, 2, 9, 1, 3, 0);
  const SparsePattern& p = b.pattern;
  auto model = small_smoother(4);
  torch::NoGradGuard no_grad;
  const auto infer = [&](const torch::Tensor& values) {
    const torch::Tensor d = sparse_diagonal(p, values);
    return smoother_infer(*model, p, values, d, smoother_row_statistics(p, values, d));
  };
  SmootherInference r = infer(b.values);
  CHECK(torch::allclose(r.values, smoother_apply_model(*model, p, b.values), 1e-13, 1e-13));
  CHECK(!r.outputs.defined());
  {  // Kept outputs form the same M with the same diagonal, and M for another one (a lag).
    const torch::Tensor d = sparse_diagonal(p, b.values);
    const SmootherInference kept =
        smoother_infer(*model, p, b.values, d, smoother_row_statistics(p, b.values, d), {}, true);
    REQUIRE(kept.outputs.sizes() == torch::IntArrayRef({1, 1, p.nnz()}));
    CHECK(torch::allclose(smoother_values(p, d, kept.outputs), kept.values, 1e-15, 0));
    const torch::Tensor d2 = 4 * d;  // the operator scaled by 4: M scaled by 1/4
    CHECK(torch::allclose(smoother_values(p, d2, kept.outputs), kept.values / 4, 1e-14, 0));
  }
  // Symmetric: the diagonal and one of each off-diagonal pair; M exactly symmetric.
  CHECK(r.evaluated == (p.nnz() + p.rows()) / 2);
  const torch::Tensor M = dense_of(p, r.values[0]);
  CHECK(torch::equal(M, M.t()));
  // One pair made unequal (a_ij ≠ a_ji beyond rounding): both entries run the network, and M
  // is still what the batched path gives.
  torch::Tensor unsymmetric = b.values.clone();
  const int64_t k = p.row_ptr()[20].item<int64_t>();  // row 20's first entry, off the diagonal
  REQUIRE(p.col_idx()[k].item<int>() != 20);
  unsymmetric[0][k] *= 1.5;
  r = infer(unsymmetric);
  CHECK(r.evaluated == (p.nnz() + p.rows()) / 2 + 1);
  CHECK(torch::allclose(r.values, smoother_apply_model(*model, p, unsymmetric), 1e-13, 1e-13));
  // Rounding-level asymmetry (as GAMG's Galerkin operators have) still shares.
  torch::Tensor rounded = b.values.clone();
  rounded[0][k] *= 1 + 1e-14;
  CHECK(infer(rounded).evaluated == (p.nnz() + p.rows()) / 2);
  // A multi-field model reads the fields; without them it is refused.
  const SmootherBatch f = sample_smoother_batch({"darcy"}, 2, 5, 1, 3, 0, 2);
  auto fm = small_smoother(5, kSmootherFieldFeatures);
  const torch::Tensor fd = sparse_diagonal(f.pattern, f.values);
  const torch::Tensor fst = smoother_row_statistics(f.pattern, f.values, fd);
  CHECK(torch::allclose(smoother_infer(*fm, f.pattern, f.values, fd, fst, f.field).values,
                        smoother_apply_model(*fm, f.pattern, f.values, f.field), 1e-13, 1e-13));
  CHECK_THROWS_WITH_AS(smoother_infer(*fm, f.pattern, f.values, fd, fst),
                       doctest::Contains("a multi-field model needs the field of every column"),
                       pins::Error);
  CHECK_THROWS_WITH_AS(smoother_infer(*model, p, b.values.to(torch::kFloat32),
                                      sparse_diagonal(p, b.values),
                                      smoother_row_statistics(p, b.values,
                                                              sparse_diagonal(p, b.values))),
                       doctest::Contains("values must be float64"), pins::Error);
}

TEST_CASE("the smoother loss is the energy error of the best damped step, with its gradient") {
  const SmootherBatch b = sample_smoother_batch({"darcy"}, 3, 4, 2, 7, 0);
  auto model = small_smoother(3);
  torch::Tensor m = smoother_apply_model(*model, b.pattern, b.values).detach().requires_grad_(true);
  const torch::Tensor loss = smoother_loss(b.pattern, b.values, m, b.z);
  double direct = 0;
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor A = dense_of(b.pattern, b.values[i]), M = dense_of(b.pattern, m[i].detach());
    const torch::Tensor z = b.z[i];
    // min over ω of ‖(I − ωMA)z‖²_A / ‖z‖²_A by a fine scan around the optimum.
    double best = 1e300;
    const torch::Tensor w = M.mv(A.mv(z));
    const double om = (w.dot(A.mv(z)) / w.dot(A.mv(w))).item<double>();
    for (double f : {0.9, 0.99, 1.0, 1.01, 1.1}) {
      const torch::Tensor e = z - om * f * w;
      best = std::min(best, (e.dot(A.mv(e)) / z.dot(A.mv(z))).item<double>());
    }
    direct += best / 2;
  }
  CHECK(loss.item<double>() == doctest::Approx(direct).epsilon(1e-10));
  CHECK(loss.item<double>() > 0);
  CHECK(loss.item<double>() < 1);
  // Gradient against central differences on a few entries.
  loss.backward();
  const torch::Tensor g = m.grad();
  for (int64_t k : {int64_t(0), int64_t(7), int64_t(b.pattern.nnz() - 1)}) {
    const double h = 1e-6;
    torch::Tensor mp = m.detach().clone(), mm = m.detach().clone();
    mp[1][k] += h;
    mm[1][k] -= h;
    const double fd = (smoother_loss(b.pattern, b.values, mp, b.z).item<double>() -
                       smoother_loss(b.pattern, b.values, mm, b.z).item<double>()) /
                      (2 * h);
    CHECK(g[1][k].item<double>() == doctest::Approx(fd).epsilon(1e-5).scale(1e-6));
  }
}

TEST_CASE("a non-positive diagonal is refused, naming the row") {
  const SmootherBatch b = sample_smoother_batch({"darcy"}, 2, 4, 1, 1, 0);
  torch::Tensor v = b.values.clone();
  v[0][b.pattern.diagonal_index()[5].item<int64_t>()] = -2.0;
  auto model = small_smoother();
  CHECK_THROWS_WITH_AS(smoother_apply_model(*model, b.pattern, v),
                       doctest::Contains("the diagonal entry of row 5 is -2"), pins::Error);
  CHECK_THROWS_WITH_AS(SmootherTrainOptions::from_options(OptionMap{{"-smoother_dims", "4"}}),
                       doctest::Contains("-smoother_dims: each dimension must be 2 or 3, got '4'"),
                       pins::Error);
  CHECK_THROWS_WITH_AS(
      SmootherTrainOptions::from_options(OptionMap{{"-smoother_operators", "foo"}}),
      doctest::Contains("-smoother_operators: unknown kind 'foo'"), pins::Error);
  CHECK_THROWS_WITH_AS(SmootherTrainOptions::from_options(OptionMap{{"-smoother_grids", "4"}}),
                       doctest::Contains("unknown option -smoother_grids"), pins::Error);
}

TEST_CASE("multi-field operators: coupled SPD blocks, the same-field feature, M SPD") {
  // Two fields on a 2-D 5 x 5 grid and a 3-D 4^3 one: field f's rows are the f-th half
  // (field-major), fields couple only at one point, and the whole operator is SPD.
  for (int dim : {2, 3}) {
    INFO("dim " << dim);
    const int side = dim == 2 ? 5 : 4;
    const int64_t points = dim == 2 ? 25 : 64;
    const SmootherBatch b = sample_smoother_batch(operator_kinds(), dim, side, 3, 11, 0, 2);
    REQUIRE(b.pattern.rows() == 2 * points);
    REQUIRE(b.field.defined());
    CHECK(b.field.narrow(0, 0, points).eq(0).all().item<bool>());
    CHECK(b.field.narrow(0, points, points).eq(1).all().item<bool>());
    const torch::Tensor rows = b.pattern.row_indices(), cols = b.pattern.col_idx().to(torch::kInt64);
    const torch::Tensor cross = b.field.index_select(0, rows) != b.field.index_select(0, cols);
    // The pattern holds full 2 x 2 blocks at every stencil point (as a DMDA with dof 2
    // preallocates them); a nonzero cross-field entry couples one point's two fields only:
    // column = row ± points.
    const torch::Tensor coupled = cross & (b.values != 0).all(0);
    CHECK(((cols - rows).abs().masked_select(coupled) == points).all().item<bool>());
    CHECK(coupled.sum().item<int64_t>() == 2 * points);
    CHECK((b.values.masked_select(cross.unsqueeze(0) & ~coupled.unsqueeze(0)) == 0)
              .all()
              .item<bool>());
    for (int i = 0; i < 3; ++i) {
      const torch::Tensor A = dense_of(b.pattern, b.values[i]);
      CHECK(torch::allclose(A, A.t(), 1e-13, 1e-13));
      CHECK(torch::linalg_eigvalsh(A, "L").min().item<double>() > 0);
    }
    // The same-field channel, and the first six channels as the scalar features.
    const torch::Tensor d = sparse_diagonal(b.pattern, b.values);
    const torch::Tensor st = smoother_row_statistics(b.pattern, b.values, d);
    const torch::Tensor x6 = smoother_features(b.pattern, b.values, d, st);
    const torch::Tensor x7 = smoother_features(b.pattern, b.values, d, st, b.field);
    REQUIRE(x7.size(1) == kSmootherFieldFeatures);
    CHECK(torch::equal(x7.narrow(1, 0, kSmootherFeatures), x6));
    CHECK(torch::equal(x7.select(1, 6)[0], (~cross).to(torch::kFloat64)));
    // A multi-field model writes an SPD M too, and needs the fields.
    auto model = small_smoother(4, kSmootherFieldFeatures);
    torch::NoGradGuard no_grad;
    const torch::Tensor m = smoother_apply_model(*model, b.pattern, b.values, b.field);
    for (int i = 0; i < 3; ++i) {
      const torch::Tensor M = dense_of(b.pattern, m[i]);
      CHECK(torch::allclose(M, M.t(), 1e-13, 1e-13));
      CHECK(torch::linalg_eigvalsh(M, "L").min().item<double>() > 0);
    }
    CHECK_THROWS_WITH_AS(smoother_apply_model(*model, b.pattern, b.values),
                         doctest::Contains("a multi-field smoother model needs the field of every row"),
                         pins::Error);
  }
  // One field draws exactly the scalar batch (field 0 of a dof-2 batch is not that batch: it
  // carries the coupling).
  const SmootherBatch one = sample_smoother_batch({"darcy"}, 2, 5, 2, 3, 0);
  const SmootherBatch one_again = sample_smoother_batch({"darcy"}, 2, 5, 2, 3, 0, 1);
  CHECK(torch::equal(one.values, one_again.values));
  CHECK_FALSE(one.field.defined());
  CHECK_FALSE(smoother_model_reads_fields(kSmootherFeatures));
  CHECK(smoother_model_reads_fields(kSmootherFieldFeatures));
  CHECK_THROWS_WITH_AS(smoother_model_reads_fields(5), doctest::Contains("got 5 input channels"),
                       pins::Error);
  CHECK_THROWS_WITH_AS(SmootherTrainOptions::from_options(OptionMap{{"-smoother_dof", "5"}}),
                       doctest::Contains("-smoother_dof must be in [1, 4]"), pins::Error);
  CHECK(SmootherTrainOptions::from_options(OptionMap{{"-smoother_dof", "2"}}).features() ==
        kSmootherFieldFeatures);
}

namespace {
// A short training on small operators (150 steps of 4, single thread, quiet): the model beats
// Jacobi's loss on the validation operators.
PreconditionTrainResult short_training(Surrogate& model, const OptionMap& options) {
  SmootherTrainOptions o = SmootherTrainOptions::from_options(options);
  o.loop.steps = 150;
  o.loop.batch_size = 4;
  o.loop.lr = 3e-3;
  o.loop.monitor_every = 0;
  o.loop.threads = 1;
  const PreconditionTrainResult r = train_smoother(model, o);
  INFO("Jacobi " << r.bare_val_loss << ", untrained " << r.initial_val_loss << ", trained "
                 << r.final_val_loss);
  CHECK(r.final_val_loss < r.initial_val_loss);
  CHECK(r.final_val_loss < 0.95 * r.bare_val_loss);
  return r;
}
}  // namespace

TEST_CASE("training a multi-field model lowers its loss below Jacobi's") {
  const OptionMap options{{"-grid", "10"}, {"-smoother_dims", "2"}, {"-smoother_dof", "2"}};
  torch::manual_seed(0);
  auto scalar = make_surrogate("entry_mlp", OptionMap{}, kSmootherFeatures, 1);
  CHECK_THROWS_WITH_AS(short_training(*scalar, options),
                       doctest::Contains("for -smoother_dof 2 needs 7 input channels"),
                       pins::Error);
  auto model = make_surrogate("entry_mlp", OptionMap{}, kSmootherFieldFeatures, 1);
  short_training(*model, options);
}

TEST_CASE("training lowers the smoother loss below Jacobi's on both dimensions") {
  torch::manual_seed(0);
  auto model = make_surrogate("entry_mlp", OptionMap{}, kSmootherFeatures, 1);
  short_training(*model, OptionMap{{"-grid", "12"}, {"-smoother_grid3d", "6"}});
}
