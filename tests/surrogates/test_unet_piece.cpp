// The U-Net evaluated piece by piece (UNetImpl::forward_piece): every piece of an aligned
// tensor-product split, run together (threads here, piece_threads.hpp; MPI processes in the
// surrogate PC), must give forward() on the whole grid restricted to that piece — the 3×3
// convolutions through one-cell halos, the GroupNorms through sums, the rest on the piece.
#include "helpers.hpp"

#include <atomic>

#include "piece_threads.hpp"
#include "surrogates/unet.hpp"

namespace {

struct Case {
  int64_t ny, nx;
  int levels;
  torch::ScalarType dtype;
  std::vector<int64_t> ys, xs;
};

torch::Tensor whole_grid(pins::UNet& unet, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return unet(x);
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

}  // namespace

TEST_CASE("the U-Net on the pieces of an aligned split equals the U-Net on the whole grid") {
  torch::manual_seed(5);
  torch::set_num_threads(1);
  // Grids that are whole blocks and grids padded on the high side (30 x 41 with 3 levels:
  // blocks of 4), uneven splits, one level (no pooling: any split), one piece.
  const std::vector<Case> cases = {
      {32, 32, 3, torch::kFloat64, {0, 16, 32}, {0, 12, 32}},
      {30, 41, 3, torch::kFloat64, {0, 8, 30}, {0, 4, 20, 41}},
      {30, 41, 3, torch::kFloat32, {0, 12, 24, 30}, {0, 40, 41}},
      {9, 7, 1, torch::kFloat64, {0, 2, 9}, {0, 3, 4, 7}},
      {24, 16, 4, torch::kFloat32, {0, 24}, {0, 16}},
  };
  for (const Case& k : cases) {
    pins::UNet unet(pins::UNetOptions(5, 1).channels(8).levels(k.levels));
    unet->to(k.dtype);
    unet->eval();
    const torch::Tensor x = torch::randn({2, 5, k.ny, k.nx}, torch::TensorOptions(k.dtype));
    const torch::Tensor whole = whole_grid(unet, x);
    const torch::Tensor pieces = pins::test::forward_in_pieces(*unet, 1, x, k.ys, k.xs);
    INFO(k.ny << " x " << k.nx << ", " << k.levels << " levels, in " << (k.ys.size() - 1)
              << " x " << (k.xs.size() - 1) << " pieces");
    CHECK(relative_difference(pieces, whole) < (k.dtype == torch::kFloat64 ? 1e-12 : 2e-5));
  }
}

TEST_CASE("the U-Net's pieces need their halos: zero halos give another answer") {
  // What the comparison above would miss if the halos did nothing: the pieces' edges differ.
  torch::manual_seed(6);
  pins::UNet unet(pins::UNetOptions(5, 1).channels(8).levels(2));
  unet->to(torch::kFloat64);
  unet->eval();
  const torch::Tensor x = torch::randn({1, 5, 16, 16}, torch::kFloat64);
  const torch::Tensor whole = whole_grid(unet, x);
  torch::Tensor left, right;
  {
    torch::NoGradGuard no_grad;
    pins::PieceExchanges alone;  // every piece on its own: sums of itself, zero halos
    alone.sum = [](torch::Tensor&) {};
    alone.halo = [](const torch::Tensor& t) { return torch::constant_pad_nd(t, {1, 1, 1, 1}); };
    left = unet->forward_piece(x.slice(3, 0, 8).contiguous(), pins::GridPiece{16, 16, 0, 0}, alone);
    right = unet->forward_piece(x.slice(3, 8, 16).contiguous(), pins::GridPiece{16, 16, 0, 8}, alone);
  }
  CHECK(relative_difference(torch::cat({left, right}, 3), whole) > 1e-3);
}

TEST_CASE("a U-Net piece's exchanges are recorded, and a failed piece can finish them") {
  torch::manual_seed(7);
  torch::set_num_threads(1);
  const int levels = 3;
  pins::UNet unet(pins::UNetOptions(5, 1).channels(4).levels(levels));
  unet->eval();
  const torch::Tensor x = torch::randn({1, 5, 20, 20});
  const std::vector<pins::PieceExchange> record =
      pins::record_piece_exchanges(*unet, x.slice(3, 0, 8).contiguous(), pins::GridPiece{20, 20, 0, 0});
  // Every block: two convolutions (a halo each) and two normalisations (two sums each).
  const int blocks = 2 * levels - 1;
  int halos = 0, sums = 0;
  for (const auto& e : record) (e.kind == pins::PieceExchange::Kind::kHalo ? halos : sums)++;
  CHECK(halos == 2 * blocks);
  CHECK(sums == 4 * blocks);
  CHECK(record.front().kind == pins::PieceExchange::Kind::kHalo);
  CHECK(record.front().shape == std::vector<int64_t>{1, 5, 20, 8});

  // Two pieces in threads; the right one fails after its fifth exchange and makes the rest
  // with zeros: the left one finishes (no hang) with a finite answer.
  pins::test::ThreadExchanges exchanges(1, 2);
  torch::Tensor left_out;
  std::atomic<bool> right_failed{false};
  std::thread left([&] {
    torch::NoGradGuard no_grad;
    left_out = unet->forward_piece(x.slice(3, 0, 8).contiguous(), pins::GridPiece{20, 20, 0, 0},
                                   exchanges.of(0, 0));
  });
  std::thread right([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor mine = x.slice(3, 8, 20).contiguous();
    const pins::GridPiece piece{20, 20, 0, 8};
    const std::vector<pins::PieceExchange> mine_record = pins::record_piece_exchanges(*unet, mine, piece);
    const pins::PieceExchanges real = exchanges.of(0, 1);
    std::size_t made = 0;
    pins::PieceExchanges failing;
    failing.sum = [&](torch::Tensor& t) {
      if (made == 5) throw std::runtime_error("out of memory (simulated)");
      ++made;
      real.sum(t);
    };
    failing.halo = [&](const torch::Tensor& t) {
      if (made == 5) throw std::runtime_error("out of memory (simulated)");
      ++made;
      return real.halo(t);
    };
    try {
      unet->forward_piece(mine, piece, failing);
    } catch (const std::exception&) {
      right_failed = true;
      pins::finish_piece_exchanges(mine_record, made, mine.scalar_type(), real);
    }
  });
  left.join();
  right.join();
  CHECK(right_failed);
  REQUIRE(left_out.defined());
  CHECK(torch::isfinite(left_out).all().item<bool>());
}

TEST_CASE("the U-Net's forward_piece refuses unaligned pieces and 3-D, naming them") {
  pins::UNet unet(pins::UNetOptions(1, 1).channels(4).levels(3));
  pins::PieceExchanges none;
  none.sum = [](torch::Tensor&) {};
  none.halo = [](const torch::Tensor& t) { return torch::constant_pad_nd(t, {1, 1, 1, 1}); };
  CHECK_THROWS_WITH(unet->forward_piece(torch::zeros({1, 1, 8, 6}), pins::GridPiece{16, 16, 0, 2}, none),
                    doctest::Contains("must start at multiples of 4 cells"));
  CHECK_THROWS_WITH(unet->forward_piece(torch::zeros({1, 1, 8, 6}), pins::GridPiece{16, 16, 0, 0}, none),
                    doctest::Contains("span a multiple of 4"));
  CHECK_THROWS_WITH(unet->forward_piece(torch::zeros({1, 1, 8, 8}), pins::GridPiece{12, 12, 8, 0}, none),
                    doctest::Contains("are not inside the 12 x 12 grid"));
  pins::UNet unet3d(pins::UNetOptions(1, 1, 3).channels(4).levels(2));
  CHECK_THROWS_WITH(unet3d->forward_piece(torch::zeros({1, 1, 4, 4}), pins::GridPiece{4, 4, 0, 0}, none),
                    doctest::Contains("2-D only"));
}
