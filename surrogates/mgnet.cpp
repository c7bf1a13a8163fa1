// MgNet: a learned multigrid V-cycle (mgnet.hpp).
#include "surrogates/mgnet.hpp"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "pins/core/check.hpp"
#include "surrogates/multigrid.hpp"
#include "surrogates/registry.hpp"

namespace pins {

namespace {

// Damping of the Jacobi sweeps the untrained smoothers reproduce.
constexpr double kOmega = 2.0 / 3.0;

// Stencil features (9 channels) → pre- and post-smoothing stencils (18 channels). The last
// layer starts at zero so the untrained network smooths with damped Jacobi.
torch::nn::Sequential smoother_net(int width) {
  using namespace torch::nn;
  Sequential net(Conv2d(Conv2dOptions(9, width, 3).padding(1)), GELU(),
                 Conv2d(Conv2dOptions(width, width, 3).padding(1)), GELU(),
                 Conv2d(Conv2dOptions(width, 18, 1)));
  auto* last = net->ptr(4)->as<Conv2d>();
  torch::NoGradGuard no_grad;
  last->weight.zero_();
  last->bias.zero_();
  return net;
}

}  // namespace

MgNetImpl::MgNetImpl(MgNetOptions options_) : options(std::move(options_)) {
  PINS_CHECK(options.in_channels() == 5 && options.out_channels() == 1,
             "mgnet: is a preconditioner network (-task precondition) with 5 input channels "
             "(couplings W, E, S, N and the residual) and 1 output, got ",
             options.in_channels(), " -> ", options.out_channels());
  check_option_min("mgnet", "width", options.width(), 1);
  check_option_min("mgnet", "smooth", options.smooth(), 1);
  check_option_min("mgnet", "coarsest", options.coarsest(), 2);
  PINS_CHECK(options.smooth() <= 20, "mgnet: smooth must be at most 20, got ", options.smooth(),
             " (-mgnet_smooth)");
  PINS_CHECK(options.coarsest() <= 64, "mgnet: coarsest must be at most 64 (a dense solve of ",
             "coarsest^2 unknowns), got ", options.coarsest(), " (-mgnet_coarsest)");
  reset();
}

void MgNetImpl::reset() {
  fine_ = register_module("fine", smoother_net(options.width()));
  coarse_ = register_module("coarse", smoother_net(options.width()));
  cached_.reset();
  cached_couplings_ = torch::Tensor();
}

int MgNetImpl::levels_for(int64_t ny, int64_t nx) const {
  int levels = 1;
  for (; mg::coarsens(ny, nx, options.coarsest()); ny /= 2, nx /= 2) ++levels;
  return levels;
}

MgNetImpl::Setup MgNetImpl::make_setup(const torch::Tensor& couplings) {
  Setup s;
  {
    // The hierarchy has no weights: no autograd. It is built in the model's dtype; only the
    // coarsest operator is inverted in float64 (dense_inverse). float32 takes 26 ms at 256²
    // against 45 ms in float64 (bench_mgnet), and in bench_precondition both gave the same
    // FGMRES iterations on Darcy 12/3 and 1:10⁴ operators, for trained and untrained models.
    torch::NoGradGuard no_grad;
    mg::Hierarchy h =
        mg::build_hierarchy(mg::stencil_from_couplings(couplings), options.coarsest());
    for (auto& op : h.ops) s.inv_diag.push_back(1.0 / op.select(1, mg::kCentre));
    s.ops = std::move(h.ops);
    s.prolongations = std::move(h.prolongations);
    s.coarse_inverse = std::move(h.coarse_inverse);
  }
  for (std::size_t l = 0; l + 1 < s.ops.size(); ++l) {
    const torch::Tensor m = smoothers(s.ops[l], int(l));
    s.pre.push_back(m.narrow(1, 0, 9));
    s.post.push_back(m.narrow(1, 9, 9));
  }
  return s;
}

torch::Tensor MgNetImpl::smoothers(const torch::Tensor& stencil, int level) {
  PINS_CHECK(stencil.dim() == 4 && stencil.size(1) == 9,
             "mgnet: a level's stencil must be [B, 9, ny, nx], got ", stencil.sizes());
  // The same expression as the set-up's inv_diag, so the features round alike.
  const torch::Tensor features = stencil * (1.0 / stencil.select(1, mg::kCentre)).unsqueeze(1);
  const torch::Tensor m = (level == 0 ? fine_ : coarse_)->forward(features);
  torch::Tensor jacobi = torch::zeros_like(features);
  jacobi.select(1, mg::kCentre).fill_(kOmega);
  return torch::cat({jacobi + m.narrow(1, 0, 9), jacobi + m.narrow(1, 9, 9)}, 1);
}

torch::Tensor MgNetImpl::cycle(const Setup& s, std::size_t l, const torch::Tensor& r) const {
  if (l + 1 == s.ops.size()) return mg::dense_apply(s.coarse_inverse, r);
  const torch::Tensor& A = s.ops[l];
  const bool five = l == 0;
  auto residual = [&](const torch::Tensor& z) { return r - mg::stencil_apply(A, z, five); };
  torch::Tensor z = mg::stencil_apply(s.pre[l], s.inv_diag[l] * r);
  for (int k = 1; k < options.smooth(); ++k)
    z = z + mg::stencil_apply(s.pre[l], s.inv_diag[l] * residual(z));
  const torch::Tensor rc = mg::restrict_to_coarse(s.prolongations[l], residual(z));
  z = z + mg::prolong(s.prolongations[l], cycle(s, l + 1, rc));
  for (int k = 0; k < options.smooth(); ++k)
    z = z + mg::stencil_apply(s.post[l], s.inv_diag[l] * residual(z));
  return z;
}

torch::Tensor MgNetImpl::forward(const torch::Tensor& x) {
  check_surrogate_input(x, options.in_channels(), "mgnet");
  const torch::Tensor couplings = x.narrow(1, 0, 4);
  const torch::Tensor r = x.select(1, 4);
  if (torch::GradMode::is_enabled()) {
    const Setup s = make_setup(couplings);
    return cycle(s, 0, r).unsqueeze(1);
  }
  return cycle(*inference_setup(couplings), 0, r).unsqueeze(1);
}

std::shared_ptr<const MgNetImpl::Setup> MgNetImpl::inference_setup(const torch::Tensor& couplings) {
  PINS_CHECK(couplings.dim() == 4 && couplings.size(1) == 4,
             "mgnet: couplings must be [B, 4, ny, nx], got ", couplings.sizes());
  torch::NoGradGuard no_grad;
  // Reuse the operator-dependent work while the couplings and the weights are the ones it
  // was made with (a Krylov solve applies the network to one operator often).
  std::vector<std::pair<const void*, uint32_t>> weights;
  for (const auto& p : parameters()) weights.emplace_back(p.data_ptr(), uint32_t(p._version()));
  const bool hit = cached_ && weights == cached_weights_ &&
                   cached_couplings_.sizes() == couplings.sizes() &&
                   cached_couplings_.scalar_type() == couplings.scalar_type() &&
                   torch::equal(cached_couplings_, couplings);
  if (!hit) {
    cached_ = std::make_shared<Setup>(make_setup(couplings));
    cached_couplings_ = couplings.clone();
    cached_weights_ = std::move(weights);
  }
  return cached_;
}

nlohmann::json MgNetImpl::options_json() const {
  return {{"width", options.width()},
          {"smooth", options.smooth()},
          {"coarsest", options.coarsest()}};
}

const SurrogateType& mgnet_surrogate_type() {
  static const SurrogateType entry = [] {
    const MgNetOptions d(5, 1);
    return SurrogateType{
        "mgnet",
        "learned multigrid V-cycle for -task precondition: operator-dependent Galerkin "
        "coarsening, CNN smoothers read from the operator; any grid",
        {/*dims=*/2, /*grid_independent=*/true, /*tasks=*/{"precondition"},
         /*linear_in_input=*/true, /*smooths=*/true},
        {{"width", std::to_string(d.width()), "hidden channels of the smoother CNNs"},
         {"smooth", std::to_string(d.smooth()), "pre- and post-smoothing sweeps per level"},
         {"coarsest", std::to_string(d.coarsest()),
          "coarsen while both sides exceed this; solve the last level exactly"}},
        [](const OptionMap& o, int in, int out) -> std::shared_ptr<Surrogate> {
          MgNetOptions opt(in, out);
          opt.width(o.get_int("-mgnet_width", opt.width()))
              .smooth(o.get_int("-mgnet_smooth", opt.smooth()))
              .coarsest(o.get_int("-mgnet_coarsest", opt.coarsest()));
          return MgNet(opt).ptr();
        }};
  }();
  return entry;
}

}  // namespace pins
