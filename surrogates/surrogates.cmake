# Surrogate architectures, their registry, model files and the option map, all in pins_core
# (included from the top-level CMakeLists.txt right after pins_core is defined).
target_sources(pins_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/core/options.cpp
  ${PROJECT_SOURCE_DIR}/src/core/sha256.cpp
)
