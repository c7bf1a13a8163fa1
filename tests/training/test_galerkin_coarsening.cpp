// Galerkin coarse operators PᵀAP on a structured grid (pins/core/galerkin_coarsening.hpp):
// against a dense product with P built here from its definition, their 9-/27-point pattern,
// symmetry, the training batches drawn from them, and the sizes they refuse.
#include "helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/galerkin_coarsening.hpp"
#include "pins/core/smoother_train.hpp"

using namespace pins;

namespace {

// The 1-D interpolation from c coarse points to 2c + 1 fine ones, dense [2c + 1, c]:
// coarse I on fine 2I + 1, halves on the fine points between.
torch::Tensor interpolation_1d(int64_t c) {
  torch::Tensor p = torch::zeros({2 * c + 1, c}, torch::kFloat64);
  for (int64_t I = 0; I < c; ++I) {
    p[2 * I + 1][I] = 1.0;
    p[2 * I][I] = 0.5;
    p[2 * I + 2][I] = 0.5;
  }
  return p;
}

torch::Tensor dense(const SparsePattern& p, const torch::Tensor& values) {
  torch::Tensor d = torch::zeros({p.rows(), p.cols()}, torch::kFloat64);
  d.index_put_({p.row_indices(), p.col_idx().to(torch::kInt64)}, values);
  return d;
}

}  // namespace

TEST_CASE("galerkin_coarsen equals P^T A P with the multilinear interpolation, 2-D and 3-D") {
  for (int dim : {2, 3}) {
    const int side = 7;  // 3 coarse points per axis: one interior coarse row
    const SmootherBatch fine = sample_smoother_batch(operator_kinds(), dim, side, 3, 17, 0);
    const CoarseOperators coarse = galerkin_coarsen(fine.pattern, fine.values, dim, side);
    const int64_t c = (side - 1) / 2;
    CHECK(coarse.side == c);
    const torch::Tensor p1 = interpolation_1d(c);
    torch::Tensor P = p1;
    for (int k = 1; k < dim; ++k) P = torch::kron(P, p1);  // C order: the last axis fastest
    for (int b = 0; b < 3; ++b) {
      INFO("dim " << dim << ", operator " << b);
      const torch::Tensor want = P.t().mm(dense(fine.pattern, fine.values[b])).mm(P);
      const torch::Tensor got = dense(coarse.pattern, coarse.values[b]);
      // Relative to the largest entry: the 1:10⁴ operators' rows cancel to near zero.
      const double scale = want.abs().max().item<double>();
      CHECK((got - want).abs().max().item<double>() < 1e-14 * scale);
      CHECK((got - got.t()).abs().max().item<double>() < 1e-14 * scale);  // A symmetric → PᵀAP too
    }
    // An interior coarse row couples to its 3^dim neighbours.
    const torch::Tensor counts = coarse.pattern.row_ptr().diff();
    CHECK(counts.max().item<int64_t>() == (dim == 2 ? 9 : 27));
  }
}

TEST_CASE("Galerkin smoother batches: coarse operators on the training side, fresh errors") {
  const SmootherBatch b = sample_galerkin_smoother_batch({"contrast"}, 3, 4, 2, 5, 0);
  CHECK(b.pattern.rows() == 64);
  CHECK(b.values.sizes() == torch::IntArrayRef({2, b.pattern.nnz()}));
  CHECK(b.z.sizes() == torch::IntArrayRef({2, 64}));
  CHECK(b.aggregate.numel() == 64);
  // The contrast operators' coarse rows have positive couplings, unlike any fine 7-point row.
  const torch::Tensor rows = b.pattern.row_indices(), cols = b.pattern.col_idx().to(torch::kInt64);
  const torch::Tensor off = b.values.index({torch::indexing::Slice(), rows != cols});
  CHECK((off > 0).any().item<bool>());
}

TEST_CASE("galerkin_coarsen and -smoother_galerkin refuse what they cannot coarsen, naming it") {
  const SmootherBatch fine = sample_smoother_batch({"darcy"}, 2, 8, 1, 3, 0);
  CHECK_THROWS_WITH_AS(galerkin_coarsen(fine.pattern, fine.values, 2, 8),
                       doctest::Contains("odd number of points per side"), pins::Error);
  const SmootherBatch odd = sample_smoother_batch({"darcy"}, 2, 7, 1, 3, 0);
  CHECK_THROWS_WITH_AS(galerkin_coarsen(odd.pattern, odd.values, 3, 7),
                       doctest::Contains("a 7^3 grid has 343 points"), pins::Error);
  CHECK_THROWS_WITH_AS(galerkin_coarsen(odd.pattern, odd.values.to(torch::kFloat32), 2, 7),
                       doctest::Contains("values must be float64"), pins::Error);
  CHECK_THROWS_WITH_AS(
      SmootherTrainOptions::from_options(OptionMap{{"-smoother_galerkin", "1"}, {"-smoother_dof", "2"}}),
      doctest::Contains("coarsens one-field operators only"), pins::Error);
  CHECK_THROWS_WITH_AS(SmootherTrainOptions::from_options(OptionMap{{"-smoother_galerkin", "2"}}),
                       doctest::Contains("-smoother_galerkin must be 0 or 1"), pins::Error);
}
