// The family registry and the defaults of pins::Family (pins/core/family.hpp).
#include "pins/core/family.hpp"

#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "pde/builtin_families.hpp"
#include "pins/core/check.hpp"
#include "pins/core/operator.hpp"

namespace pins {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<const Family>> families;
  bool builtins_done = false;
};

Registry& registry() {
  static Registry r;
  return r;
}

// The built-in families register on first use of the registry (not through static
// initialisers, which a static link may drop).
void ensure_builtins() {
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.builtins_done) return;
    r.builtins_done = true;
  }
  register_builtin_families();
}

}  // namespace

void register_family(std::shared_ptr<const Family> family) {
  PINS_CHECK(family, "register_family: the family is null");
  const std::string name = family->name();
  PINS_CHECK(!name.empty() && name.find_first_of(" \t\n,") == std::string::npos,
             "register_family: a family name must be one word, got '", name, "'");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& f : r.families) {
    if (f->name() != name) continue;
    PINS_CHECK(f == family, "register_family: a family called '", name,
               "' is already registered");
    return;
  }
  r.families.push_back(std::move(family));
}

const Family& find_family(const std::string& name) {
  ensure_builtins();
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    for (const auto& f : r.families)
      if (f->name() == name) return *f;
  }
  std::string known;
  for (const auto& n : family_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("-pde '" + name + "' is not a known problem family (known: " + known + ")");
}

std::shared_ptr<const Family> family_for(const std::string& name,
                                         const std::map<std::string, std::string>& parameters) {
  const Family& registered = find_family(name);  // refuses an unknown name
  if (auto configured = registered.with_parameters(parameters)) return configured;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& f : r.families)
    if (f.get() == &registered) return f;
  throw Error("internal error: family '" + name + "' vanished from the registry");
}

std::shared_ptr<const Family> family_for(const std::string& name,
                                         const std::map<std::string, std::string>& parameters,
                                         std::shared_ptr<const Mesh> mesh) {
  std::shared_ptr<const Family> family = family_for(name, parameters);
  if (family->on_mesh()) {
    PINS_CHECK(mesh, "the ", name, " family lives on a mesh, but the dataset has none (no "
               "attribute 'mesh' and no /mesh arrays)");
    return family->with_mesh(std::move(mesh));
  }
  PINS_CHECK(!mesh, "the ", name, " family is on a structured grid, but the dataset holds a "
             "mesh (", mesh ? mesh->describe() : "", ")");
  return family;
}

std::vector<std::string> family_names() {
  ensure_builtins();
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& f : r.families) names.push_back(f->name());
  return names;
}

std::vector<InputField> Family::dataset_inputs() const {
  std::vector<InputField> stored;
  const std::string state = state_input();
  for (const InputField& in : inputs())
    if (in.name != state) stored.push_back(in);
  return stored;
}

std::string Family::input_names() const {
  std::string s;
  for (const auto& in : inputs()) s += (s.empty() ? "" : ", ") + in.name;
  return s;
}

int Family::input_channels() const {
  int channels = 0;
  for (const auto& in : inputs()) channels += in.components;
  return channels;
}

void Family::check_inputs(const FieldMap& fields, const std::string& who) const {
  for (const auto& in : inputs()) {
    const auto it = fields.find(in.name);
    PINS_CHECK(it != fields.end() && it->second.defined(), who, ": the ", name(),
               " family needs the input field '", in.name, "' (its inputs: ", input_names(), ")");
  }
}

std::shared_ptr<const Family> Family::with_mesh(std::shared_ptr<const Mesh>) const {
  throw Error("the " + name() + " family is on a structured grid: it takes no mesh");
}

torch::Tensor Family::to_points(const torch::Tensor&) const {
  throw Error("the " + name() + " family is on a structured grid: its fields are on its points "
              "already");
}

std::string Family::operator_description() const {
  return "stencil: " + stencil().describe();
}

std::shared_ptr<const Family> Family::with_parameters(
    const std::map<std::string, std::string>&) const {
  return nullptr;
}

torch::Tensor Family::residual(const FieldMap& inputs, const torch::Tensor& u) const {
  const OperatorPtr A = make_operator(inputs);
  return A->residual(u, rhs(inputs));
}

torch::Tensor Family::residual_magnitude(const FieldMap& inputs, const torch::Tensor& u) const {
  torch::NoGradGuard no_grad;
  const OperatorPtr A = make_operator(inputs);
  return A->with_values(A->values().abs())->apply(u.abs()) + rhs(inputs).abs();
}

OperatorPtr Family::linearised_operator(const FieldMap& inputs, const torch::Tensor&) const {
  return nonlinear() ? nullptr : make_operator(inputs);
}

torch::Tensor Family::relative_residual(const FieldMap& inputs, const torch::Tensor& u) const {
  torch::NoGradGuard no_grad;
  // The arithmetic of pins::relative_residual (losses.hpp), so a linear family's values are
  // those bit for bit (F(0) = −f squares to f²).
  auto norm = [](const torch::Tensor& t) { return t.square().flatten(1).sum(1).sqrt(); };
  const torch::Tensor r = residual(inputs, u.contiguous());
  const torch::Tensor r0 = residual(inputs, torch::zeros_like(u));
  return norm(r) / norm(r0).clamp_min(1e-300);
}

double Family::solution_scale(const FieldMap& inputs) const {
  // A few conjugate-gradient iterations from zero on up to 4 samples: the iterate's size
  // approaches the solution's from below, which is enough for a scale.
  torch::NoGradGuard no_grad;
  FieldMap few;
  for (const auto& [k, v] : inputs) few[k] = v.narrow(0, 0, std::min<int64_t>(4, v.size(0))).contiguous();
  const OperatorPtr A = make_operator(few);
  const torch::Tensor f = rhs(few).to(A->values().scalar_type()).contiguous();
  auto dot = [](const torch::Tensor& a, const torch::Tensor& b) { return (a * b).flatten(1).sum(1); };
  auto per_sample = [&](const torch::Tensor& s) {
    std::vector<int64_t> shape(f.dim(), 1);
    shape[0] = -1;
    return s.view(shape);
  };
  torch::Tensor x = torch::zeros_like(f), r = f.clone(), p = r.clone();
  torch::Tensor rr = dot(r, r);
  for (int it = 0; it < 50; ++it) {
    const torch::Tensor Ap = A->apply(p.contiguous());
    const torch::Tensor alpha = rr / dot(p, Ap).clamp_min(1e-300);
    x = x + per_sample(alpha) * p;
    r = r - per_sample(alpha) * Ap;
    const torch::Tensor rr_new = dot(r, r);
    p = r + per_sample(rr_new / rr.clamp_min(1e-300)) * p;
    rr = rr_new;
  }
  const double scale = std::sqrt(x.square().mean().item<double>());
  PINS_CHECK(std::isfinite(scale) && scale > 0, name(),
             ": could not estimate the size of the solutions (got ", scale,
             "); is the operator symmetric positive definite and f non-zero?");
  return scale;
}

}  // namespace pins
