// The surrogate registry: building from options, JSON round trip, errors, -help text.
#include "helpers.hpp"

#include <nlohmann/json.hpp>

using pins::OptionMap;
using pins::test::small_options;
using pins::test::throws_with;

TEST_CASE("the registry lists the nine architectures") {
  CHECK(pins::surrogate_type_names() == std::vector<std::string>{"fno", "unet", "deeponet", "mlp",
                                                                 "mgnet", "fno3d", "unet3d",
                                                                 "gnn", "entry_mlp"});
}

TEST_CASE("make_surrogate reads the prefixed options of each type") {
  auto fno = pins::make_surrogate("fno", small_options("fno"), 2, 1);
  CHECK(fno->options_json() ==
        nlohmann::json{{"modes", 4}, {"width", 6}, {"layers", 2}, {"padding", 3}, {"hidden", 8}});
  auto unet = pins::make_surrogate("unet", small_options("unet"), 2, 1);
  CHECK(unet->options_json() == nlohmann::json{{"channels", 4}, {"levels", 3}});
  auto deeponet = pins::make_surrogate("deeponet", small_options("deeponet"), 2, 1);
  CHECK(deeponet->options_json() ==
        nlohmann::json{{"ny", 12}, {"nx", 10}, {"width", 12}, {"depth", 2}, {"basis", 6}});
  auto mlp = pins::make_surrogate(
      "mlp",
      OptionMap::from_args({"-mlp_width", "5", "-mlp_activation", "gelu", "-mlp_inputs", "no"}), 2,
      1);
  CHECK(mlp->options_json() ==
        nlohmann::json{{"width", 5}, {"depth", 4}, {"activation", "gelu"}, {"inputs", false}});
  // Absent options take the defaults.
  auto defaults = pins::make_surrogate("unet", OptionMap{}, 1, 1);
  CHECK(defaults->options_json() == nlohmann::json{{"channels", 16}, {"levels", 3}});
  auto gnn = pins::make_surrogate("gnn", small_options("gnn"), 2, 1);
  CHECK(gnn->options_json() == nlohmann::json{{"dims", 2},
                                              {"width", 8},
                                              {"layers", 2},
                                              {"grid", 4},
                                              {"modes", 2},
                                              {"padding", 2},
                                              {"hidden", 8}});
}

TEST_CASE("make_surrogate_from_json rebuilds the same architecture for every type") {
  for (const auto& name : pins::surrogate_type_names()) {
    INFO("type " << name);
    // MgNet is a preconditioner: 5 channels in (couplings and residual), 1 out.
    const int in = name == "mgnet" ? 5 : 3, out = name == "mgnet" ? 1 : 2;
    auto a = pins::make_surrogate(name, small_options(name), in, out);
    auto b = pins::make_surrogate_from_json(name, a->options_json(), in, out);
    CHECK(b->type() == name);
    CHECK(b->options_json() == a->options_json());
    CHECK(b->in_channels() == in);
    CHECK(b->out_channels() == out);
    // Same architecture: the same parameter names and shapes.
    auto pa = a->module().named_parameters(), pb = b->module().named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
      CHECK(pa[i].key() == pb[i].key());
      CHECK(pins::test::shape_of(pa[i].value()) == pins::test::shape_of(pb[i].value()));
    }
  }
}

TEST_CASE("make_surrogate rejects unknown types, unknown options and bad values") {
  CHECK(throws_with(
      [] { pins::make_surrogate("cnn", OptionMap{}, 1, 1); },
      "unknown surrogate type 'cnn' (known: fno, unet, deeponet, mlp, mgnet, fno3d, unet3d, "
      "gnn, entry_mlp)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("fno", OptionMap{{"-fno_modes", "abc"}}, 1, 1);
      },
      "-fno_modes must be an integer, got 'abc'"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("fno", OptionMap{{"-fno_modes", "0"}}, 1, 1);
      },
      "fno: modes must be at least 1, got 0 (-fno_modes)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("fno", OptionMap{{"-fno_mode", "8"}}, 1, 1);
      },
      "unknown option -fno_mode for surrogate type 'fno' (known: -fno_modes, "
      "-fno_width, -fno_layers, -fno_padding, -fno_hidden)"));
  // Another type's options are not this type's business.
  CHECK(pins::make_surrogate("mlp", OptionMap{{"-fno_mode", "8"}}, 1, 1)->type() == "mlp");
  CHECK(throws_with(
      [] {
        pins::make_surrogate("unet", OptionMap{{"-unet_levels", "-1"}}, 1, 1);
      },
      "unet: levels must be at least 1, got -1 (-unet_levels)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("unet", OptionMap{{"-unet_levels", "40"}}, 1, 1);
      },
      "unet: levels must be at most 10"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("deeponet", OptionMap{{"-deeponet_nx", "8"}}, 1, 1);
      },
      "-deeponet_ny is required"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("mlp", OptionMap{{"-mlp_activation", "relu"}}, 1, 1);
      },
      "mlp: activation must be tanh or gelu, got 'relu' (-mlp_activation)"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate("mlp", OptionMap{{"-mlp_inputs", "2"}}, 1, 1);
      },
      "-mlp_inputs must be true or false, got '2'"));
  CHECK(throws_with([] { pins::make_surrogate("fno", OptionMap{}, 0, 1); },
                    "fno: in_channels must be at least 1, got 0"));
}

TEST_CASE("make_surrogate_from_json rejects unknown keys and ill-typed values") {
  CHECK(throws_with(
      [] {
        pins::make_surrogate_from_json("fno", {{"modez", 3}}, 1, 1);
      },
      "unknown option 'modez' for surrogate type 'fno'"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate_from_json("fno", {{"modes", 2.5}}, 1, 1);
      },
      "-fno_modes must be an integer, got '2.5'"));
  CHECK(throws_with(
      [] {
        pins::make_surrogate_from_json("fno", {{"modes", {1, 2}}}, 1, 1);
      },
      "option 'modes' of surrogate type 'fno' must be a number, bool or string"));
  CHECK(throws_with([] { pins::make_surrogate_from_json("fno", nlohmann::json::array(), 1, 1); },
                    "must be a JSON object"));
}

TEST_CASE("surrogate_help lists every option with its default") {
  const std::string help = pins::surrogate_help();
  for (const auto& t : pins::surrogate_types()) {
    CHECK(help.find("  " + t.name + ": ") != std::string::npos);
    for (const auto& o : t.options) {
      INFO("option " << o.name);
      CHECK(help.find("-" + t.name + "_" + o.name + " <" + o.default_value + ">") !=
            std::string::npos);
    }
  }
  CHECK(help.find("-fno_modes <12>") != std::string::npos);
  CHECK(help.find("-mlp_activation <tanh>") != std::string::npos);
}

TEST_CASE("a surrogate prints its type and options") {
  auto unet = pins::make_surrogate("unet", small_options("unet"), 1, 2);
  std::ostringstream os;
  unet->pretty_print(os);
  CHECK(os.str() == "pins::unet(in=1, out=2, {\"channels\":4,\"levels\":3})");
  // Printed as a torch::nn::Module (e.g. as a submodule), it starts with the same text.
  std::ostringstream as_module;
  as_module << unet->module();
  CHECK(as_module.str().rfind(os.str(), 0) == 0);
}
