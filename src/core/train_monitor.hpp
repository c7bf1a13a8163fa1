#pragma once
// Progress lines and history rows of solution training (private to pins::core).

#include <cmath>
#include <string>
#include <vector>

#include "pins/core/trainer.hpp"

namespace pins::detail {

/// `v` as a JSON number, null when it is not finite (JSON has no NaN or infinity); `Json` is
/// nlohmann::json (checkpoints) or nlohmann::ordered_json (log rows in column order).
template <class Json = nlohmann::json>
Json finite_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

/// What finite_or_null wrote: the number, or NaN for null.
double number_or_nan(const nlohmann::json& j);

/// "epoch  3/20  loss 1.23e-01 (data 1.1e-01, physics 3.2e-02)  val relL2 1.2e-01  lr 1.0e-03
///  812 samples/s  ETA 0:42" for one epoch.
std::string epoch_line(const EpochRecord& r, int epochs, double eta_seconds);

/// The history as rows of the log (training_loop.hpp's write_log_rows), keys in the CSV
/// column order: epoch, loss, data_loss, physics_loss, val_rel_l2, val_physics, lr, seconds,
/// samples_per_second, skipped_steps (NaN as null).
nlohmann::ordered_json history_rows(const std::vector<EpochRecord>& history);

/// An epoch record as JSON (NaN as null), and back (for checkpoints).
nlohmann::json to_json(const EpochRecord& r);
EpochRecord epoch_from_json(const nlohmann::json& j);

}  // namespace pins::detail
