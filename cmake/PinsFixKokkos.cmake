# Debian's Trilinos build of Kokkos (libtrilinos-kokkos-dev) exports the target
# Kokkos::kokkos with INTERFACE_INCLUDE_DIRECTORIES = <prefix>/lib/include, a folder
# that does not exist; the headers live in <prefix>/include/trilinos. A correct
# Kokkos install (e.g. an OpenMP or CUDA build found through Kokkos_ROOT) already
# points at the folder holding Kokkos_Core.hpp, and is left untouched.
function(pins_fix_kokkos_include_dirs)
  if(NOT TARGET Kokkos::kokkos)
    message(FATAL_ERROR "pins: find_package(Kokkos) did not define Kokkos::kokkos")
  endif()
  get_target_property(_dirs Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  foreach(_d IN LISTS _dirs)
    if(EXISTS "${_d}/Kokkos_Core.hpp")
      return()
    endif()
  endforeach()
  find_path(PINS_KOKKOS_INCLUDE_DIR Kokkos_Core.hpp
    HINTS ${Kokkos_INCLUDE_DIRS} ${Kokkos_DIR}/../../../../include/trilinos
    PATH_SUFFIXES trilinos
    DOC "Folder that holds Kokkos_Core.hpp")
  if(NOT PINS_KOKKOS_INCLUDE_DIR)
    message(FATAL_ERROR "pins: cannot find Kokkos_Core.hpp; set PINS_KOKKOS_INCLUDE_DIR")
  endif()
  message(STATUS "pins: Kokkos::kokkos include directory reset to ${PINS_KOKKOS_INCLUDE_DIR}")
  set_target_properties(Kokkos::kokkos PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${PINS_KOKKOS_INCLUDE_DIR}")
endfunction()
