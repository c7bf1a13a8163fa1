// Surrogate traits: what each registered architecture declares, the queries callers use
// instead of name checks, and the messages when an architecture lacks what a caller needs.
#include "helpers.hpp"

#include "surrogates/surrogate.hpp"

using pins::surrogate_traits;
using pins::SurrogateNeeds;
using pins::test::small_model;
using pins::test::throws_with;

namespace {

using Names = std::vector<std::string>;

struct Expected {
  const char* name;
  int dims;
  bool grid_independent;
  Names tasks;
  bool linear_in_input;
  bool smooths;
  bool mesh;
  bool matrix_entries = false;
};

const Expected kExpected[] = {
    {"fno", 2, true, {"solution", "precondition"}, false, false, false},
    {"unet", 2, false, {"solution", "precondition"}, false, false, false},
    {"deeponet", 2, false, {"solution"}, false, false, false},
    {"mlp", 2, true, {"solution"}, false, false, false},
    {"mgnet", 2, true, {"precondition"}, true, true, false},
    {"fno3d", 3, true, {"solution", "precondition"}, false, false, false},
    {"unet3d", 3, false, {"solution", "precondition"}, false, false, false},
    {"gnn", 0, true, {"solution"}, false, false, true},
    {"entry_mlp", 0, true, {"smoother"}, false, false, false, true},
};

}  // namespace

TEST_CASE("every registered architecture declares its traits") {
  REQUIRE(pins::surrogate_types().size() == std::size(kExpected));
  for (const Expected& e : kExpected) {
    INFO("type " << e.name);
    const pins::SurrogateTraits& t = surrogate_traits(e.name);
    CHECK(t.dims == e.dims);
    CHECK(t.grid_independent == e.grid_independent);
    CHECK(t.tasks == e.tasks);
    CHECK(t.linear_in_input == e.linear_in_input);
    CHECK(t.smooths == e.smooths);
    CHECK(t.mesh == e.mesh);
    CHECK(t.matrix_entries == e.matrix_entries);
  }
  // Whatever is registered later: a grid dimension or a mesh (dims 0, so callers that
  // compare dims with their grid's never pick it), and only tasks the callers know.
  for (const auto& type : pins::surrogate_types()) {
    INFO("type " << type.name);
    CHECK((type.traits.mesh || type.traits.matrix_entries
               ? type.traits.dims == 0
               : (type.traits.dims == 2 || type.traits.dims == 3)));
    CHECK_FALSE((type.traits.mesh && type.traits.matrix_entries));
    CHECK_FALSE(type.traits.tasks.empty());
    for (const auto& task : type.traits.tasks)
      CHECK((task == "solution" || task == "precondition" || task == "smoother"));
  }
}

TEST_CASE("a built surrogate reports its registry entry's traits") {
  for (const std::string type : {"fno", "unet", "mlp", "fno3d", "unet3d", "gnn"}) {
    INFO("type " << type);
    auto model = small_model(type, 2, 1);
    CHECK(&model->traits() == &surrogate_traits(type));
  }
  auto mgnet = small_model("mgnet", 5, 1);
  CHECK(mgnet->traits().linear_in_input);
  CHECK(mgnet->traits().serves("precondition"));
  CHECK_FALSE(mgnet->traits().serves("solution"));
}

TEST_CASE("surrogate_types_for lists the architectures serving a task on a dimension") {
  CHECK(pins::surrogate_types_for("solution", 2) == Names{"fno", "unet", "deeponet", "mlp"});
  CHECK(pins::surrogate_types_for("precondition", 2) == Names{"fno", "unet", "mgnet"});
  CHECK(pins::surrogate_types_for("solution", 3) == Names{"fno3d", "unet3d"});
  CHECK(pins::surrogate_types_for("solution") ==
        Names{"fno", "unet", "deeponet", "mlp", "fno3d", "unet3d", "gnn"});
  CHECK(pins::mesh_surrogate_types_for("solution") == Names{"gnn"});
  CHECK(pins::mesh_surrogate_types_for("") == Names{"gnn"});
  CHECK(pins::mesh_surrogate_types_for("precondition").empty());
  CHECK(pins::surrogate_types_for("", 3) == Names{"fno3d", "unet3d"});
  CHECK(pins::surrogate_types_for("correction").empty());
}

TEST_CASE("check_surrogate_traits accepts what an architecture has") {
  CHECK_NOTHROW(pins::check_surrogate_traits("fno", {"solution", 2, true, ""}));
  CHECK_NOTHROW(pins::check_surrogate_traits("unet", {"precondition", 2, false, ""}));
  CHECK_NOTHROW(pins::check_surrogate_traits("mgnet", {"precondition", 2, true, ""}));
  CHECK_NOTHROW(pins::check_surrogate_traits("unet3d", {"solution", 3, false, ""}));
  CHECK_NOTHROW(pins::check_surrogate_traits("deeponet", SurrogateNeeds{}));
  CHECK_NOTHROW(pins::check_surrogate_traits("gnn", {"solution", 0, true, "", /*mesh=*/true}));
  CHECK_NOTHROW(pins::check_surrogate_traits("gnn", {"solution", 0, false, ""}));
}

TEST_CASE("check_surrogate_traits keeps grid data and mesh architectures apart") {
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("gnn", {"solution", 2, false, ""});
      },
      "surrogate type 'gnn' runs on unstructured meshes (node features on a mesh graph), the "
      "data is on a 2-D grid (2-D architectures for solution: fno, unet, deeponet, mlp)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("fno", {"solution", 0, false, "", /*mesh=*/true});
      },
      "surrogate type 'fno' runs on 2-D grids, the data is on an unstructured mesh (mesh "
      "architectures for solution: gnn)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("gnn", {"precondition", 0, false, "", true});
      },
      "surrogate type 'gnn' does not serve -task precondition"));
}

TEST_CASE("check_surrogate_traits refuses what an architecture lacks, naming the ones that fit") {
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("mgnet", {"solution", 2, false, ""});
      },
      "surrogate type 'mgnet' does not serve -task solution (it serves: "
      "precondition; for solution: fno, unet, deeponet, mlp)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("mlp", {"precondition", 0, false, ""});
      },
      "surrogate type 'mlp' does not serve -task precondition (it serves: "
      "solution; for precondition: fno, unet, mgnet, fno3d, unet3d)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("fno3d", {"solution", 2, false, ""});
      },
      "surrogate type 'fno3d' runs on 3-D grids, the data is 2-D (2-D "
      "architectures for solution: fno, unet, deeponet, mlp)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("unet", {"", 3, false, ""});
      },
      "surrogate type 'unet' runs on 2-D grids, the data is 3-D (3-D "
      "architectures: fno3d, unet3d)"));
  // A grid-dependent architecture where grid independence is needed.
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits(
            "unet", {"solution", 2, true, "the model was trained on 32 x 32 and runs on 64 x 64"});
      },
      "surrogate type 'unet' is not grid-independent (it is meant for its training grid only), "
      "but the model was trained on 32 x 32 and runs on 64 x 64 (grid-independent: fno, mlp)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("deeponet", {"", 0, true, ""});
      },
      "surrogate type 'deeponet' is not grid-independent (it is meant for its "
      "training grid only), but it would run on another grid (grid-independent: "
      "fno, mlp, mgnet, fno3d, gnn, entry_mlp)"));
  CHECK(throws_with(
      [] {
        pins::check_surrogate_traits("unet3d", {"solution", 3, true, ""});
      },
      "(grid-independent: fno3d)"));
  CHECK(
      throws_with([] { pins::surrogate_traits("cnn"); }, "unknown surrogate type 'cnn' (known: "));
  CHECK(throws_with([] { pins::check_surrogate_traits("cnn", SurrogateNeeds{}); },
                    "unknown surrogate type 'cnn'"));
}

TEST_CASE("surrogate_help shows each architecture's dimension, tasks and grid independence") {
  const std::string help = pins::surrogate_help();
  CHECK(help.find("[2-D; tasks: solution, precondition; grid-independent]") != std::string::npos);
  CHECK(help.find("[2-D; tasks: precondition; grid-independent]") != std::string::npos);
  CHECK(help.find("[2-D; tasks: solution]") != std::string::npos);                // deeponet
  CHECK(help.find("[3-D; tasks: solution, precondition]") != std::string::npos);  // unet3d
  CHECK(help.find("-fno3d_modes <8>") != std::string::npos);
  CHECK(help.find("[mesh; tasks: solution; grid-independent]") != std::string::npos);  // gnn
  CHECK(help.find("-gnn_grid <8>") != std::string::npos);
}
