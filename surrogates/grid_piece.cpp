// Networks evaluated piece by piece (grid_piece.hpp): the record of a piece's exchanges.
#include "surrogates/grid_piece.hpp"

#include <torch/torch.h>

namespace pins {

std::vector<PieceExchange> record_piece_exchanges(PiecewiseSurrogate& network,
                                                  const torch::Tensor& x, const GridPiece& piece) {
  std::vector<PieceExchange> record;
  PieceExchanges alone;
  alone.sum = [&](torch::Tensor& t) {
    record.push_back({PieceExchange::Kind::kSum, t.sizes().vec()});
  };
  alone.halo = [&](const torch::Tensor& t) {
    record.push_back({PieceExchange::Kind::kHalo, t.sizes().vec()});
    return torch::constant_pad_nd(t, {1, 1, 1, 1});
  };
  torch::NoGradGuard no_grad;
  network.forward_piece(torch::zeros_like(x), piece, alone);
  return record;
}

void finish_piece_exchanges(const std::vector<PieceExchange>& exchanges, std::size_t first,
                            torch::ScalarType dtype, const PieceExchanges& to) {
  for (std::size_t k = first; k < exchanges.size(); ++k) {
    torch::Tensor zeros = torch::zeros(exchanges[k].shape, torch::TensorOptions(dtype));
    if (exchanges[k].kind == PieceExchange::Kind::kSum)
      to.sum(zeros);
    else
      to.halo(zeros);
  }
}

}  // namespace pins
