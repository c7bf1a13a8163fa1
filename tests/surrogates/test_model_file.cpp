// Model files: manifest contents, integrity checks, requirements, atomic no-clobber writes.
#include "helpers.hpp"

#include <nlohmann/json.hpp>

#include "pins/core/check.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/sha256.hpp"
#include "pins/core/version.hpp"

using pins::test::read_bytes;
using pins::test::small_model;
using pins::test::TempDir;
using pins::test::throws_with;
using pins::test::write_bytes;

namespace {

pins::ModelManifest darcy_manifest() {
  pins::ModelManifest m;
  m.problem_family = "darcy";
  m.task = "solution";
  m.grid_nx = 10;
  m.grid_ny = 12;
  m.normalisation = {{"kappa", {{"mean", 1.25}, {"std", 0.5}}}, {"u", {{"scale", 3e-2}}}};
  m.training_data_hash = "sha256:0123abcd";
  m.metrics = {{"val_rel_l2", 0.0123}, {"epochs", 40}};
  return m;
}

std::uint64_t u64_at(const std::string& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

void set_u64_at(std::string& b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Rewrites the manifest of a model file (keeping the weights and thus their hash valid).
template <class Edit>
void edit_manifest(const std::string& path, Edit edit) {
  std::string b = read_bytes(path);
  const std::uint64_t M = u64_at(b, 16);
  auto j = nlohmann::json::parse(b.substr(32, M));
  edit(j);
  const std::string text = j.dump();
  b = b.substr(0, 32) + text + b.substr(32 + M);
  set_u64_at(b, 16, text.size());
  write_bytes(path, b);
}

}  // namespace

TEST_CASE("a model file holds the manifest fields and the SHA-256 of its weights") {
  torch::manual_seed(20);
  TempDir dir;
  const std::string path = dir.file("darcy.pins");
  auto model = small_model("fno", 1, 1);
  pins::save_model(path, *model, darcy_manifest());
  CHECK(dir.entries() == 1);  // no temporary file left behind

  const pins::ModelManifest m = pins::read_model_manifest(path);
  CHECK(m.architecture == "fno");
  CHECK(m.architecture_options == model->options_json());
  CHECK(m.in_channels == 1);
  CHECK(m.out_channels == 1);
  CHECK(m.dtype == "float32");
  CHECK(m.problem_family == "darcy");
  CHECK(m.task == "solution");
  CHECK(m.grid_nx == 10);
  CHECK(m.grid_ny == 12);
  CHECK(m.normalisation == darcy_manifest().normalisation);
  CHECK(m.training_data_hash == "sha256:0123abcd");
  CHECK(m.metrics == darcy_manifest().metrics);
  CHECK(m.pins_version == PINS_VERSION_STRING);
  CHECK(m.tensors.size() == model->module().named_parameters().size());

  // The layout: magic, version, lengths; the hash covers exactly the weight section.
  const std::string b = read_bytes(path);
  CHECK(b.compare(0, 9, "PINSMODEL") == 0);
  CHECK(b[12] == 1);
  const std::uint64_t M = u64_at(b, 16), W = u64_at(b, 24);
  CHECK(b.size() == 32 + M + W);
  CHECK(W == m.weights_bytes);
  CHECK(pins::sha256_hex(b.data() + 32 + M, W) == m.weights_sha256);
  std::uint64_t total = 0;
  for (const auto& t : m.tensors) {
    CHECK(t.offset == total);
    total += t.nbytes;
  }
  CHECK(total == W);
  // The manifest is plain JSON with the format name, readable without pins.
  auto j = nlohmann::json::parse(b.substr(32, M));
  CHECK(j["format"] == "pins-model");
  CHECK(j["format_version"] == 1);
  CHECK(pins::ModelManifest::from_json(j).to_json() == j);
}

TEST_CASE("load_model refuses truncated and corrupted files, naming the file") {
  torch::manual_seed(21);
  TempDir dir;
  const std::string path = dir.file("m.pins");
  pins::save_model(path, *small_model("mlp", 1, 1), darcy_manifest());
  const std::string good = read_bytes(path);
  const std::string file = "model file '" + path + "'";

  write_bytes(path, good.substr(0, good.size() - 1));
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is truncated"));
  write_bytes(path, good.substr(0, 20));
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is truncated"));
  write_bytes(path, good.substr(0, 4));
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is not a pins model file"));
  write_bytes(path, "");
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is not a pins model file"));

  std::string flipped = good;
  flipped[flipped.size() - 5] ^= 0x01;  // one bit of the last parameter
  write_bytes(path, flipped);
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + " is corrupt: the SHA-256 of its weights is"));

  std::string magic = good;
  magic[0] = 'X';
  write_bytes(path, magic);
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is not a pins model file"));

  std::string version = good;
  version[12] = 7;
  write_bytes(path, version);
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + " has format version 7; this pins reads versions 1 to 1"));

  std::string json = good;
  json[32] = '#';  // the manifest's opening brace
  write_bytes(path, json);
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + " is corrupt: its manifest is not valid JSON"));

  write_bytes(path, good + "extra");
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + " is corrupt: 5 unexpected bytes after the weights"));

  std::string huge = good;
  set_u64_at(huge, 24, ~std::uint64_t{0});  // a length past the end, without overflowing
  write_bytes(path, huge);
  CHECK(throws_with([&] { pins::load_model(path); }, file + " is truncated"));

  write_bytes(path, good);
  CHECK_NOTHROW(pins::load_model(path));
}

TEST_CASE("load_model checks the manifest's tensor list against the architecture") {
  torch::manual_seed(22);
  TempDir dir;
  const std::string path = dir.file("m.pins");
  pins::save_model(path, *small_model("unet", 1, 1), darcy_manifest());
  const std::string good = read_bytes(path);
  const std::string file = "model file '" + path + "'";

  edit_manifest(path, [](auto& j) { j["weights"]["tensors"][0]["shape"][0] = 5; });
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + ": tensor 'down0.0.weight' has shape [5, 1, 3, 3] in the file, the "
                           "model expects [4, 1, 3, 3]"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["weights"]["tensors"][0]["dtype"] = "float64"; });
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + ": tensor 'down0.0.weight' has dtype float64 in the file, the model "
                           "expects float32"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["weights"]["tensors"][0]["name"] = "down0.9.weight"; });
  CHECK(
      throws_with([&] { pins::load_model(path); },
                  file + " has tensor 'down0.9.weight', which architecture 'unet' does not have"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["weights"]["tensors"].erase(0); });
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + " lacks tensor 'down0.0.weight' of architecture 'unet'"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["weights"]["tensors"][1]["offset"] = 1u << 30; });
  CHECK(
      throws_with([&] { pins::load_model(path); }, file + " is corrupt: tensor 'down0.1.weight'"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["architecture"]["options"]["levels"] = 2; });
  CHECK(throws_with([&] { pins::load_model(path); }, "which architecture 'unet' does not have"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["architecture"]["options"]["depth"] = 2; });
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + ": unknown option 'depth' for surrogate type 'unet'"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["architecture"]["type"] = "cnn"; });
  CHECK(throws_with([&] { pins::load_model(path); }, file + ": unknown surrogate type 'cnn'"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["grid"].erase("nx"); });
  CHECK(
      throws_with([&] { pins::load_model(path); }, file + ": manifest field 'grid.nx' is missing"));
  write_bytes(path, good);
  edit_manifest(path, [](auto& j) { j["format"] = "other"; });
  CHECK(throws_with([&] { pins::load_model(path); },
                    file + ": manifest format is 'other', expected 'pins-model'"));
}

TEST_CASE("load_model refuses a model that does not meet the caller's requirements") {
  torch::manual_seed(23);
  TempDir dir;
  const std::string path = dir.file("m.pins");
  pins::save_model(path, *small_model("fno", 1, 1), darcy_manifest());
  const std::string file = "model file '" + path + "'";

  pins::ModelRequirements need;
  need.in_channels = 3;
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": in_channels mismatch: expected 3, found 1"));
  need = {};
  need.out_channels = 2;
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": out_channels mismatch: expected 2, found 1"));
  need = {};
  need.problem_family = "heat";
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": problem_family mismatch: expected 'heat', found 'darcy'"));
  need = {};
  need.task = "correction";
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": task mismatch: expected 'correction', found 'solution'"));
  need = {};
  need.architecture = "unet";
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": architecture mismatch: expected 'unet', found 'fno'"));
  need = {};
  need.grid_nx = 64;
  CHECK(throws_with([&] { pins::load_model(path, need); },
                    file + ": grid_nx mismatch: expected 64, found 10"));

  need = {};
  need.architecture = "fno";
  need.in_channels = 1;
  need.out_channels = 1;
  need.problem_family = "darcy";
  need.task = "solution";
  need.grid_nx = 10;
  need.grid_ny = 12;
  CHECK(pins::load_model(path, need).model->type() == "fno");
}

TEST_CASE("save_model does not replace an existing file without force") {
  torch::manual_seed(24);
  TempDir dir;
  const std::string path = dir.file("m.pins");
  auto first = small_model("mlp", 1, 1);
  auto second = small_model("mlp", 1, 1);
  pins::save_model(path, *first, darcy_manifest());
  const std::string before = read_bytes(path);

  CHECK(throws_with([&] { pins::save_model(path, *second, darcy_manifest()); },
                    "model file '" + path + "' already exists (pass force to overwrite it)"));
  CHECK(read_bytes(path) == before);
  CHECK(dir.entries() == 1);

  pins::save_model(path, *second, darcy_manifest(), /*force=*/true);
  CHECK(read_bytes(path) != before);
  CHECK(dir.entries() == 1);
  auto x = torch::randn({1, 1, 4, 4});
  CHECK(torch::equal(pins::load_model(path).model->forward(x), second->forward(x)));
}

TEST_CASE("save_model errors leave nothing behind") {
  TempDir dir;
  auto model = small_model("mlp", 1, 1);
  const std::string missing_dir = dir.file("no/such/folder/m.pins");
  CHECK(throws_with([&] { pins::save_model(missing_dir, *model, darcy_manifest()); },
                    "cannot write model file '" + missing_dir + "'"));
  CHECK(dir.entries() == 0);

  pins::ModelManifest wrong = darcy_manifest();
  wrong.architecture = "fno";
  CHECK(throws_with([&] { pins::save_model(dir.file("m.pins"), *model, wrong); },
                    "the manifest says architecture 'fno', the model is 'mlp'"));
  wrong = darcy_manifest();
  wrong.in_channels = 4;
  CHECK(throws_with([&] { pins::save_model(dir.file("m.pins"), *model, wrong); },
                    "the manifest says in_channels 4, the model has 1"));
  wrong = darcy_manifest();
  wrong.task = "\xff\xfe";  // not UTF-8
  CHECK(throws_with([&] { pins::save_model(dir.file("m.pins"), *model, wrong); },
                    "the manifest cannot be written as JSON"));
  CHECK(dir.entries() == 0);
}

TEST_CASE("load_model of a missing file throws pins::FileNotFound") {
  TempDir dir;
  const std::string path = dir.file("absent.pins");
  CHECK_THROWS_AS(pins::load_model(path), pins::FileNotFound);
  CHECK(throws_with([&] { pins::load_model(path); }, "model file '" + path + "' does not exist"));
  CHECK_THROWS_AS(pins::read_model_manifest(path), pins::FileNotFound);
  CHECK(throws_with([&] { pins::load_model(dir.file("")); }, "is not a regular file"));
}
