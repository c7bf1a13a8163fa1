#pragma once
// report.md of pins bench: the suite's tables (solvers, answers, certified replacement,
// Newton and rollouts, preconditioner models, break-even, steps) from report.json's fields.

#include <nlohmann/json.hpp>
#include <string>

#include "bench_suite.hpp"

namespace pins::cli {

/// The Markdown report of `report` (pins bench's report.json, without figures), tables in
/// the suite's order.
std::string bench_markdown(const BenchSuite& suite, const nlohmann::json& report);

}  // namespace pins::cli
