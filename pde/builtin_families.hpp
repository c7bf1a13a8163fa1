#pragma once
/// \file
/// The problem families that ship with pins, registered with pins::register_family on the
/// registry's first use. Adding a built-in family is one line in pde/builtin_families.cpp.

namespace pins {

/// Registers every built-in family (idempotent).
void register_builtin_families();

}  // namespace pins
