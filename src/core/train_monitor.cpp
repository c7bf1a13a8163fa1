// The trainer's monitor line and history log.
#include "train_monitor.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "atomic_file.hpp"
#include "option_table.hpp"

namespace pins::detail {

namespace {

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

double from_number(const nlohmann::json& j) {
  return j.is_number() ? j.get<double>() : std::nan("");
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

nlohmann::json to_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"loss", number(r.loss)},
          {"data_loss", number(r.data_loss)},
          {"physics_loss", number(r.physics_loss)},
          {"val_rel_l2", number(r.val_rel_l2)},
          {"val_physics", number(r.val_physics)},
          {"lr", r.lr},
          {"seconds", r.seconds},
          {"samples_per_second", r.samples_per_second},
          {"skipped_steps", r.skipped_steps}};
}

EpochRecord epoch_from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int>();
  r.loss = from_number(j.at("loss"));
  r.data_loss = from_number(j.at("data_loss"));
  r.physics_loss = from_number(j.at("physics_loss"));
  r.val_rel_l2 = from_number(j.at("val_rel_l2"));
  r.val_physics = from_number(j.at("val_physics"));
  r.lr = j.at("lr").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.samples_per_second = j.at("samples_per_second").get<double>();
  r.skipped_steps = j.at("skipped_steps").get<int>();
  return r;
}

void write_history_log(const std::string& path, const std::vector<EpochRecord>& history) {
  std::string text;
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : history) a.push_back(to_json(r));
    text = a.dump(1) + "\n";
  } else {
    std::ostringstream os;
    os.precision(17);
    os << "epoch,loss,data_loss,physics_loss,val_rel_l2,val_physics,lr,seconds,samples_per_second,"
          "skipped_steps\n";
    for (const auto& r : history)
      os << r.epoch << ',' << r.loss << ',' << r.data_loss << ',' << r.physics_loss << ','
         << r.val_rel_l2 << ',' << r.val_physics << ',' << r.lr << ',' << r.seconds << ','
         << r.samples_per_second << ',' << r.skipped_steps << '\n';
    text = os.str();
  }
  AtomicFile out(path, "training log");
  out.write(text.data(), text.size());
  out.commit(/*force=*/true);
}

}  // namespace pins::detail
