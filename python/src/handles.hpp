#pragma once
// The C++ objects Python holds (as pins._pins._Dataset and pins._pins._Model), shared by the
// binding files that create or take them.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"

namespace pins::python {

/// A dataset read into memory; numpy views of its arrays keep the handle alive.
struct DatasetHandle {
  std::string path;
  std::shared_ptr<Dataset> data;
};

/// A surrogate: the model, its manifest and (after pins.train) the history.
struct ModelHandle {
  std::shared_ptr<Surrogate> model;
  ModelManifest manifest;
  std::string path;                                  ///< file it came from or went to ("")
  nlohmann::json history = nlohmann::json::array();  ///< per-epoch records of pins.train
};

}  // namespace pins::python
