#pragma once
// The -train_device name check (private to pins::core), shared by every option struct that
// reads -train_device and by pins::training_device, so the accepted names and the message
// are written once.
#include <string>

namespace pins::detail {

/// Throws pins::Error "-train_device must be auto, cpu or cuda, got '<name>'" otherwise.
void check_train_device_name(const std::string& name);

}  // namespace pins::detail
