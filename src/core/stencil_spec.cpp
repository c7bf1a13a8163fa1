// The stencil description (pins/core/stencil_operator.hpp): validation, points, offsets.
#include <cstdlib>
#include <sstream>

#include "pins/core/check.hpp"
#include "pins/core/stencil_operator.hpp"

namespace pins {

namespace {

// A stencil this large is almost certainly a mistake (a width meant for something else), and
// its coefficients would not fit in memory at any useful grid size.
constexpr int kMaxStencilPoints = 343;  // 3-D box of width 3

int ipow(int b, int e) {
  int r = 1;
  while (e-- > 0) r *= b;
  return r;
}

}  // namespace

void Stencil::check() const {
  PINS_CHECK(dim >= 1 && dim <= 3, "stencil: dim must be 1, 2 or 3, got ", dim);
  PINS_CHECK(shape == StencilShape::kStar || shape == StencilShape::kBox,
             "stencil: shape must be star or box, got ", static_cast<int>(shape));
  PINS_CHECK(width >= 1, "stencil: width must be at least 1, got ", width);
  PINS_CHECK(dof >= 1, "stencil: dof must be at least 1, got ", dof);
  PINS_CHECK(width <= 16 && points() <= kMaxStencilPoints, "stencil: ", describe(), " has ",
             points(), " points; at most ", kMaxStencilPoints, " are supported");
}

int Stencil::points() const {
  return shape == StencilShape::kStar ? 1 + 2 * width * dim : ipow(2 * width + 1, dim);
}

std::vector<std::array<int, 3>> Stencil::offsets() const {
  std::vector<std::array<int, 3>> out{{0, 0, 0}};
  if (shape == StencilShape::kStar) {
    // Along x, then y, then z; nearest first, the negative side before the positive.
    for (int axis = 0; axis < dim; ++axis)
      for (int d = 1; d <= width; ++d)
        for (int sign : {-1, 1}) {
          std::array<int, 3> o{0, 0, 0};
          o[2 - axis] = sign * d;  // (dz, dy, dx): axis 0 is x, the last entry
          out.push_back(o);
        }
    return out;
  }
  const int wz = dim >= 3 ? width : 0, wy = dim >= 2 ? width : 0;
  for (int dz = -wz; dz <= wz; ++dz)
    for (int dy = -wy; dy <= wy; ++dy)
      for (int dx = -width; dx <= width; ++dx)
        if (dz != 0 || dy != 0 || dx != 0) out.push_back({dz, dy, dx});
  return out;
}

std::string Stencil::describe() const {
  std::ostringstream os;
  os << "dim=" << dim << ' ' << (shape == StencilShape::kBox ? "box" : "star")
     << " width=" << width << " dof=" << dof;
  return os.str();
}

}  // namespace pins
