// Solution training's monitor line and history rows.
#include "train_monitor.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "option_table.hpp"

namespace pins::detail {

double number_or_nan(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : std::nan("");
}

namespace {

// An epoch record as `Json` (the checkpoint's json or the log's ordered_json), NaN as null.
template <class Json>
Json epoch_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"loss", finite_or_null<Json>(r.loss)},
          {"data_loss", finite_or_null<Json>(r.data_loss)},
          {"physics_loss", finite_or_null<Json>(r.physics_loss)},
          {"val_rel_l2", finite_or_null<Json>(r.val_rel_l2)},
          {"val_physics", finite_or_null<Json>(r.val_physics)},
          {"lr", r.lr},
          {"seconds", r.seconds},
          {"samples_per_second", r.samples_per_second},
          {"skipped_steps", r.skipped_steps}};
}

}  // namespace

std::string epoch_line(const EpochRecord& r, int epochs, double eta_seconds) {
  char buf[320];
  int n = std::snprintf(buf, sizeof buf, "epoch %*d/%d  loss %.4e", int(std::to_string(epochs).size()),
                        r.epoch, epochs, r.loss);
  std::string s(buf, size_t(n));
  if (std::isfinite(r.data_loss)) {
    std::snprintf(buf, sizeof buf, "  data %.4e", r.data_loss);
    s += buf;
  }
  if (std::isfinite(r.physics_loss)) {
    std::snprintf(buf, sizeof buf, "  physics %.4e", r.physics_loss);
    s += buf;
  }
  if (std::isfinite(r.val_rel_l2)) {
    std::snprintf(buf, sizeof buf, "  val relL2 %.4f", r.val_rel_l2);
    s += buf;
  }
  if (std::isfinite(r.val_physics)) {
    std::snprintf(buf, sizeof buf, "  val physics %.3e", r.val_physics);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "  lr %.2e  %.0f samples/s  ETA %s", r.lr, r.samples_per_second,
                format_duration(eta_seconds).c_str());
  s += buf;
  if (r.skipped_steps > 0) s += "  skipped " + std::to_string(r.skipped_steps) + " non-finite steps";
  return s;
}

nlohmann::json to_json(const EpochRecord& r) { return epoch_json<nlohmann::json>(r); }

EpochRecord epoch_from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int>();
  r.loss = number_or_nan(j.at("loss"));
  r.data_loss = number_or_nan(j.at("data_loss"));
  r.physics_loss = number_or_nan(j.at("physics_loss"));
  r.val_rel_l2 = number_or_nan(j.at("val_rel_l2"));
  r.val_physics = number_or_nan(j.at("val_physics"));
  r.lr = j.at("lr").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.samples_per_second = j.at("samples_per_second").get<double>();
  r.skipped_steps = j.at("skipped_steps").get<int>();
  return r;
}

nlohmann::ordered_json history_rows(const std::vector<EpochRecord>& history) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& r : history) rows.push_back(epoch_json<nlohmann::ordered_json>(r));
  return rows;
}

}  // namespace pins::detail
