// The FNO evaluated piece by piece (FNOImpl::forward_piece): every piece of a tensor-product
// split, run together, must give forward() on the whole grid restricted to that piece. The
// pieces run in threads here (piece_threads.hpp), their `sum` what an MPI all-reduce does
// between processes.
#include "helpers.hpp"

#include "piece_threads.hpp"
#include "surrogates/fno.hpp"

TEST_CASE("the FNO on the pieces of a split grid equals the FNO on the whole grid") {
  torch::manual_seed(11);
  torch::set_num_threads(1);
  // Even and odd grids, padding or none, modes clamped by a small grid or not, float32 (the
  // models' dtype) and float64 (to see that the difference is only rounding).
  struct Case {
    int64_t ny, nx;
    int modes, padding;
    torch::ScalarType dtype;
    std::vector<int64_t> ys, xs;
  };
  const std::vector<Case> cases = {
      {33, 33, 6, 5, torch::kFloat64, {0, 17, 33}, {0, 16, 33}},
      {33, 33, 6, 5, torch::kFloat32, {0, 33}, {0, 11, 22, 33}},
      {20, 27, 12, 0, torch::kFloat64, {0, 7, 13, 20}, {0, 27}},  // modes clamped by the grid
      {24, 16, 4, 3, torch::kFloat32, {0, 24}, {0, 16}},          // one piece: the whole grid
  };
  for (const Case& k : cases) {
    pins::FNO fno(pins::FNOOptions(5, 1).modes(k.modes).width(6).layers(3).padding(k.padding).hidden(8));
    fno->to(k.dtype);
    fno->eval();
    const torch::Tensor x = torch::randn({2, 5, k.ny, k.nx}, torch::TensorOptions(k.dtype));
    torch::Tensor whole;
    {
      torch::NoGradGuard no_grad;
      whole = fno(x);
    }
    const torch::Tensor pieces = pins::test::forward_in_pieces(*fno, 1, x, k.ys, k.xs);
    const double err = ((pieces - whole).abs().max() / whole.abs().max()).item<double>();
    INFO(k.ny << " x " << k.nx << " in " << (k.ys.size() - 1) << " x " << (k.xs.size() - 1)
              << " pieces, modes " << k.modes << ", padding " << k.padding);
    CHECK(err < (k.dtype == torch::kFloat64 ? 1e-12 : 2e-5));
  }
}

TEST_CASE("forward_piece refuses a piece outside its grid and a 3-D FNO, naming them") {
  pins::FNO fno(pins::FNOOptions(1, 1).modes(4).width(4).layers(1).padding(2).hidden(4));
  pins::PieceExchanges no_sum;
  no_sum.sum = [](torch::Tensor&) {};
  CHECK_THROWS_WITH(fno->forward_piece(torch::zeros({1, 1, 8, 8}), pins::GridPiece{10, 10, 4, 0}, no_sum),
                    doctest::Contains("are not inside the 10 x 10 grid"));
  pins::FNO fno3d(pins::FNOOptions(1, 1, 3).modes(2).width(4).layers(1).padding(0).hidden(4));
  CHECK_THROWS_WITH(fno3d->forward_piece(torch::zeros({1, 1, 4, 4}), pins::GridPiece{4, 4, 0, 0}, no_sum),
                    doctest::Contains("2-D only"));
}
