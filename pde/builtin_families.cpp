#include "pde/builtin_families.hpp"

#include "pde/allen_cahn/allen_cahn_family.hpp"
#include "pde/darcy/darcy_family.hpp"
#include "pde/darcy_fem/darcy_fem_family.hpp"
#include "pde/gray_scott/gray_scott_family.hpp"
#include "pde/nonlinear_darcy/nonlinear_darcy_family.hpp"
#include "pins/core/family.hpp"

namespace pins {

void register_builtin_families() {
  register_family(darcy::family());
  register_family(darcy::family_3d());
  register_family(nonlinear_darcy::family());
  register_family(darcy_fem::family());
  register_family(allen_cahn::family());
  register_family(gray_scott::family());
}

}  // namespace pins
