// The FNO evaluated piece by piece (FNOImpl::forward_piece): every piece of a tensor-product
// split, run together, must give forward() on the whole grid restricted to that piece. The
// pieces run in threads here, their `sum` a barrier that adds every piece's share — what an
// MPI all-reduce does between processes.
#include "helpers.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "surrogates/fno.hpp"

namespace {

// Adds a tensor over `count` threads: every caller blocks until all have contributed, then
// gets the total (in place). Reusable: one round per call, as forward_piece's layers are.
class ThreadSum {
 public:
  explicit ThreadSum(int count) : count_(count) {}
  void operator()(torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mutex_);
    const long round = round_;
    total_ = arrived_ == 0 ? t.clone() : total_ + t;
    if (++arrived_ == count_) {
      result_ = total_;
      arrived_ = 0;
      ++round_;
      wake_.notify_all();
    } else {
      wake_.wait(lock, [&] { return round_ != round; });
    }
    t.copy_(result_);
  }

 private:
  int count_, arrived_ = 0;
  long round_ = 0;
  torch::Tensor total_, result_;
  std::mutex mutex_;
  std::condition_variable wake_;
};

// forward_piece on every piece of the split ys × xs (boundaries, first 0, last n), each in
// its own thread; the pieces' outputs put back together into the whole grid.
torch::Tensor forward_in_pieces(pins::FNO& fno, const torch::Tensor& x,
                                const std::vector<int64_t>& ys, const std::vector<int64_t>& xs) {
  const int64_t ny = x.size(2), nx = x.size(3);
  const int count = int((ys.size() - 1) * (xs.size() - 1));
  ThreadSum sum(count);
  torch::Tensor out = torch::full({x.size(0), fno->out_channels(), ny, nx}, NAN, x.options());
  std::vector<std::thread> pieces;
  std::mutex out_mutex;
  for (size_t r = 0; r + 1 < ys.size(); ++r)
    for (size_t c = 0; c + 1 < xs.size(); ++c)
      pieces.emplace_back([&, r, c] {
        torch::NoGradGuard no_grad;
        const int64_t y0 = ys[r], h = ys[r + 1] - y0, x0 = xs[c], w = xs[c + 1] - x0;
        const torch::Tensor mine = x.slice(2, y0, y0 + h).slice(3, x0, x0 + w).contiguous();
        const torch::Tensor y =
            fno->forward_piece(mine, pins::GridPiece{ny, nx, y0, x0}, [&](torch::Tensor& t) { sum(t); });
        std::lock_guard<std::mutex> lock(out_mutex);
        out.slice(2, y0, y0 + h).slice(3, x0, x0 + w).copy_(y);
      });
  for (auto& t : pieces) t.join();
  return out;
}

}  // namespace

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
    const torch::Tensor pieces = forward_in_pieces(fno, x, k.ys, k.xs);
    const double err = ((pieces - whole).abs().max() / whole.abs().max()).item<double>();
    INFO(k.ny << " x " << k.nx << " in " << (k.ys.size() - 1) << " x " << (k.xs.size() - 1)
              << " pieces, modes " << k.modes << ", padding " << k.padding);
    CHECK(err < (k.dtype == torch::kFloat64 ? 1e-12 : 2e-5));
    CHECK(fno->piece_sum_size(2, k.ny, k.nx) > 0);
  }
}

TEST_CASE("forward_piece refuses a piece outside its grid and a 3-D FNO, naming them") {
  pins::FNO fno(pins::FNOOptions(1, 1).modes(4).width(4).layers(1).padding(2).hidden(4));
  const auto no_sum = [](torch::Tensor&) {};
  CHECK_THROWS_WITH(fno->forward_piece(torch::zeros({1, 1, 8, 8}), pins::GridPiece{10, 10, 4, 0}, no_sum),
                    doctest::Contains("are not inside the 10 x 10 grid"));
  pins::FNO fno3d(pins::FNOOptions(1, 1, 3).modes(2).width(4).layers(1).padding(0).hidden(4));
  CHECK_THROWS_WITH(fno3d->forward_piece(torch::zeros({1, 1, 4, 4}), pins::GridPiece{4, 4, 0, 0}, no_sum),
                    doctest::Contains("2-D only"));
}
