# Surrogate architectures, registry, option map, SHA-256 and model files (pins::core only).
# Included from tests/core/CMakeLists.txt.
set(_pins_st ${PROJECT_SOURCE_DIR}/tests/surrogates)
add_executable(pins_surrogate_tests
  ${_pins_st}/main.cpp
  ${_pins_st}/test_options.cpp
  ${_pins_st}/test_sha256.cpp
  ${_pins_st}/test_models.cpp
  ${_pins_st}/test_registry.cpp
  ${_pins_st}/test_model_file.cpp
  ${_pins_st}/test_mgnet.cpp
  ${_pins_st}/test_traits.cpp
  ${_pins_st}/test_models_3d.cpp
  ${_pins_st}/test_graph_net.cpp
  ${_pins_st}/test_fno_piece.cpp
  ${_pins_st}/test_spectral_dft.cpp
  ${_pins_st}/test_unet_piece.cpp
)
target_link_libraries(pins_surrogate_tests PRIVATE pins::core doctest::doctest
                                                   nlohmann_json::nlohmann_json)
target_include_directories(pins_surrogate_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/core)
add_test(NAME surrogate_tests COMMAND pins_surrogate_tests)
# No Kokkos kernels here: skip the CUDA front end where the build asks for that.
if(COMMAND pins_host_only_sources)
  pins_host_only_sources(pins_surrogate_tests)
endif()
unset(_pins_st)
