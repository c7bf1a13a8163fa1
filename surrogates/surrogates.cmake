# Surrogate architectures, their registry, model files and the option map, all in pins_core
# (included from the top-level CMakeLists.txt right after pins_core is defined).
target_sources(pins_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/core/options.cpp
  ${PROJECT_SOURCE_DIR}/src/core/sha256.cpp
  ${PROJECT_SOURCE_DIR}/src/core/model_file.cpp
  ${PROJECT_SOURCE_DIR}/src/core/model_file_manifest.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/surrogate.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/registry.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/layers_nd.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/grid_piece.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/fno.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/unet.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/deeponet.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/mlp.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/multigrid.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/mgnet.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/mesh_graph.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/graph_net.cpp
  ${PROJECT_SOURCE_DIR}/surrogates/entry_mlp.cpp
)
# pins/core/model_file.hpp and the surrogate headers use nlohmann::json in their API, so it
# is a public dependency (pinsConfig.cmake finds it for installed users).
target_link_libraries(pins_core PUBLIC nlohmann_json::nlohmann_json)
# Surrogate headers are public ("surrogates/fno.hpp"), installed next to the pde/ headers.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/surrogates/
        DESTINATION ${PINS_INSTALL_PDE_INCLUDEDIR}/surrogates
        FILES_MATCHING PATTERN "*.hpp")
