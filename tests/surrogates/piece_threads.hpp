#pragma once
// A network evaluated piece by piece (surrogates/grid_piece.hpp) with every piece in its own
// thread: the sums and halos between threads do what MPI does between processes, so the
// tests can compare the pieces with forward() on the whole grid in one process.
#include <torch/torch.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "surrogates/grid_piece.hpp"

namespace pins::test {

// A reusable barrier for `count` threads (C++17 has none).
class ThreadBarrier {
 public:
  explicit ThreadBarrier(int count) : count_(count) {}
  // Blocks until all `count` threads have arrived; `last` runs once, by the last to arrive,
  // before any is released.
  template <class Last>
  void wait(Last last) {
    std::unique_lock<std::mutex> lock(mutex_);
    const long round = round_;
    if (++arrived_ == count_) {
      last();
      arrived_ = 0;
      ++round_;
      wake_.notify_all();
    } else {
      wake_.wait(lock, [&] { return round_ != round; });
    }
  }
  void wait() {
    wait([] {});
  }

 private:
  int count_, arrived_ = 0;
  long round_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
};

// The exchanges of the pieces of a rows × cols split, piece (r, c) in slot r·cols + c.
class ThreadExchanges {
 public:
  ThreadExchanges(int rows, int cols)
      : rows_(rows), cols_(cols), slots_(size_t(rows * cols)), barrier_(rows * cols) {}

  // Every piece's t added up, in place.
  void sum(int r, int c, torch::Tensor& t) {
    slots_[size_t(r * cols_ + c)] = t.clone();
    barrier_.wait([&] {
      total_ = slots_[0].clone();
      for (size_t k = 1; k < slots_.size(); ++k) total_ += slots_[k];
    });
    t.copy_(total_);
    barrier_.wait();  // nobody overwrites the total before everyone has read it
  }

  // t with a ring of its neighbours' cells (zeros beyond the grid).
  torch::Tensor halo(int r, int c, const torch::Tensor& t) {
    slots_[size_t(r * cols_ + c)] = t;
    barrier_.wait();
    const int64_t h = t.size(2), w = t.size(3);
    torch::Tensor out = torch::constant_pad_nd(t, {1, 1, 1, 1});
    for (int dr = -1; dr <= 1; ++dr)
      for (int dc = -1; dc <= 1; ++dc) {
        const int nr = r + dr, nc = c + dc;
        if ((dr == 0 && dc == 0) || nr < 0 || nr >= rows_ || nc < 0 || nc >= cols_) continue;
        const torch::Tensor& n = slots_[size_t(nr * cols_ + nc)];
        // The neighbour's rows (columns) next to this piece: its last below (left), its
        // first above (right), all of them beside.
        const torch::Tensor rows = dr < 0 ? n.slice(2, n.size(2) - 1) : dr > 0 ? n.slice(2, 0, 1) : n;
        const torch::Tensor cells = dc < 0 ? rows.slice(3, n.size(3) - 1) : dc > 0 ? rows.slice(3, 0, 1) : rows;
        out.slice(2, dr < 0 ? 0 : dr > 0 ? h + 1 : 1, dr < 0 ? 1 : dr > 0 ? h + 2 : h + 1)
            .slice(3, dc < 0 ? 0 : dc > 0 ? w + 1 : 1, dc < 0 ? 1 : dc > 0 ? w + 2 : w + 1)
            .copy_(cells);
      }
    barrier_.wait();
    return out;
  }

  PieceExchanges of(int r, int c) {
    PieceExchanges e;
    e.sum = [this, r, c](torch::Tensor& t) { sum(r, c, t); };
    e.halo = [this, r, c](const torch::Tensor& t) { return halo(r, c, t); };
    return e;
  }

 private:
  int rows_, cols_;
  std::vector<torch::Tensor> slots_;
  torch::Tensor total_;
  ThreadBarrier barrier_;
};

// forward_piece on every piece of the split ys × xs (boundaries, first 0, last n), each in
// its own thread; the pieces' outputs put back together into the whole grid.
inline torch::Tensor forward_in_pieces(PiecewiseSurrogate& network, int64_t out_channels,
                                       const torch::Tensor& x, const std::vector<int64_t>& ys,
                                       const std::vector<int64_t>& xs) {
  const int64_t ny = x.size(2), nx = x.size(3);
  const int rows = int(ys.size() - 1), cols = int(xs.size() - 1);
  ThreadExchanges exchanges(rows, cols);
  torch::Tensor out = torch::full({x.size(0), out_channels, ny, nx}, NAN, x.options());
  std::vector<std::thread> pieces;
  std::mutex out_mutex;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      pieces.emplace_back([&, r, c] {
        torch::NoGradGuard no_grad;
        const int64_t y0 = ys[size_t(r)], h = ys[size_t(r) + 1] - y0;
        const int64_t x0 = xs[size_t(c)], w = xs[size_t(c) + 1] - x0;
        const torch::Tensor mine = x.slice(2, y0, y0 + h).slice(3, x0, x0 + w).contiguous();
        const torch::Tensor y =
            network.forward_piece(mine, GridPiece{ny, nx, y0, x0}, exchanges.of(r, c));
        std::lock_guard<std::mutex> lock(out_mutex);
        out.slice(2, y0, y0 + h).slice(3, x0, x0 + w).copy_(y);
      });
  for (auto& t : pieces) t.join();
  return out;
}

}  // namespace pins::test
