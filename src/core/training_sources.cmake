# The trainer (pins/core/trainer.hpp) and the atomic-file helper it shares with model files,
# all in pins_core (included from the top-level CMakeLists.txt after the surrogates).
target_sources(pins_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/core/atomic_file.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_data.cpp
  ${PROJECT_SOURCE_DIR}/src/core/option_table.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_options.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_device.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_checkpoint.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_optimizer.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_monitor.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_augment.cpp
  ${PROJECT_SOURCE_DIR}/src/core/data_parallel.cpp
  ${PROJECT_SOURCE_DIR}/src/core/training_loop.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_evaluate.cpp
  ${PROJECT_SOURCE_DIR}/src/core/calibration.cpp
  ${PROJECT_SOURCE_DIR}/src/core/rollout.cpp
  ${PROJECT_SOURCE_DIR}/src/core/train_job.cpp
  ${PROJECT_SOURCE_DIR}/src/core/precondition.cpp
  ${PROJECT_SOURCE_DIR}/pde/darcy/darcy_precondition_sampler.cpp
  ${PROJECT_SOURCE_DIR}/src/core/precondition_train.cpp
  ${PROJECT_SOURCE_DIR}/src/core/smoother_train.cpp
)
