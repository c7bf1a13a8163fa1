#include "pins/core/kokkos_runtime.hpp"

#include <Kokkos_Core.hpp>

#include <cstdlib>
#include <mutex>

namespace pins {

namespace {
void finalize_kokkos_at_exit() {
  if (Kokkos::is_initialized()) Kokkos::finalize();
}
}  // namespace

void ensure_kokkos_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Kokkos::is_initialized()) return;  // the application owns Kokkos
    Kokkos::initialize();
    std::atexit(finalize_kokkos_at_exit);
  });
}

std::string kokkos_execution_space_name() {
  return Kokkos::DefaultExecutionSpace::name();
}

bool kokkos_uses_host_memory() {
  return Kokkos::SpaceAccessibility<Kokkos::DefaultExecutionSpace, Kokkos::HostSpace>::accessible;
}

void kokkos_fence() {
  ensure_kokkos_initialized();
  Kokkos::fence();
}

std::string kokkos_version_string() {
  const int v = KOKKOS_VERSION;  // e.g. 30401
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
         std::to_string(v % 100);
}

}  // namespace pins
