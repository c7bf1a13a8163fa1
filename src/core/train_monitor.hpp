#pragma once
// Progress lines and the history log of the trainer (private to pins::core).

#include <string>
#include <vector>

#include "pins/core/trainer.hpp"

namespace pins::detail {

/// "epoch  3/20  loss 1.23e-01 (data 1.1e-01, physics 3.2e-02)  val relL2 1.2e-01  lr 1.0e-03
///  812 samples/s  ETA 0:42" for one epoch.
std::string epoch_line(const EpochRecord& r, int epochs, double eta_seconds);

/// Writes the history to `path` atomically (replacing it): JSON if the name ends in
/// ".json" (an array of objects, NaN as null), CSV otherwise (a header line, then one line
/// per epoch).
void write_history_log(const std::string& path, const std::vector<EpochRecord>& history);

/// An epoch record as JSON (NaN as null), and back (for checkpoints).
nlohmann::json to_json(const EpochRecord& r);
EpochRecord epoch_from_json(const nlohmann::json& j);

}  // namespace pins::detail
