// pins::OptionMap: parsing of command-line words and typed getters.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "pins/core/check.hpp"
#include "pins/core/options.hpp"

using pins::OptionMap;

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pins::Error& e) {
    return e.what();
  }
  return "<no pins::Error>";
}
}  // namespace

TEST_CASE("OptionMap::from_args pairs names with values, flags and negative numbers") {
  auto o =
      OptionMap::from_args({"-fno_modes", "8", "-verbose", "-shift", "-1.5", "-n", "-3", "-flag"});
  CHECK(o.get_int("-fno_modes", 12) == 8);
  CHECK(o.get_bool("-verbose", false));
  CHECK(o.get_double("-shift", 0) == -1.5);
  CHECK(o.get_int("-n", 0) == -3);
  CHECK(o.has("-flag"));
  CHECK(*o.find("-flag") == "");
  CHECK(o.find("-absent") == nullptr);
  CHECK(o.entries().size() == 5);
  CHECK(message_of([] { OptionMap::from_args({"8"}); }) ==
        "expected an option name (starting with '-'), got '8'");
  CHECK(message_of([] {
          OptionMap::from_args({"-a", "1", "2"});
        }) == "expected an option name (starting with '-'), got '2'");
}

TEST_CASE("OptionMap getters return defaults for absent options") {
  OptionMap o;
  CHECK(o.get_int("-a", 7) == 7);
  CHECK(o.get_double("-a", 2.5) == 2.5);
  CHECK(o.get_string("-a", "x") == "x");
  CHECK(o.get_bool("-a", true));
  CHECK_FALSE(o.get_bool("-a", false));
}

TEST_CASE("OptionMap::get_int parses integers and names the option otherwise") {
  OptionMap o{{"-fno_modes", "abc"}, {"-big", "99999999999"}, {"-ok", "+42"},
              {"-frac", "1.5"},      {"-empty", ""},          {"-space", " 3"}};
  CHECK(o.get_int("-ok", 0) == 42);
  CHECK(message_of([&] { o.get_int("-fno_modes", 12); }) ==
        "-fno_modes must be an integer, got 'abc'");
  CHECK(message_of([&] { o.get_int("-frac", 0); }) == "-frac must be an integer, got '1.5'");
  CHECK(message_of([&] { o.get_int("-empty", 0); }) == "-empty must be an integer, got ''");
  CHECK(message_of([&] { o.get_int("-space", 0); }) == "-space must be an integer, got ' 3'");
  CHECK(message_of([&] { o.get_int("-big", 0); }) ==
        "-big is out of range for an integer, got '99999999999'");
}

TEST_CASE("OptionMap::get_double accepts finite numbers only") {
  OptionMap o{{"-lr", "1e-3"}, {"-bad", "0.1x"}, {"-nan", "nan"}, {"-inf", "inf"}};
  CHECK(o.get_double("-lr", 0) == 1e-3);
  CHECK(message_of([&] { o.get_double("-bad", 0); }) == "-bad must be a finite number, got '0.1x'");
  CHECK(message_of([&] { o.get_double("-nan", 0); }) == "-nan must be a finite number, got 'nan'");
  CHECK(message_of([&] { o.get_double("-inf", 0); }) == "-inf must be a finite number, got 'inf'");
}

TEST_CASE("OptionMap::get_bool accepts the usual spellings") {
  OptionMap o{{"-a", "TRUE"}, {"-b", "no"}, {"-c", "1"},
              {"-d", "off"},  {"-e", ""},   {"-f", "maybe"}};
  CHECK(o.get_bool("-a", false));
  CHECK_FALSE(o.get_bool("-b", true));
  CHECK(o.get_bool("-c", false));
  CHECK_FALSE(o.get_bool("-d", true));
  CHECK(o.get_bool("-e", false));
  CHECK(message_of([&] { o.get_bool("-f", false); }) == "-f must be true or false, got 'maybe'");
}

TEST_CASE("OptionMap::set replaces a value") {
  OptionMap o;
  o.set("-mlp_activation", "tanh");
  o.set("-mlp_activation", "gelu");
  CHECK(o.get_string("-mlp_activation", "") == "gelu");
}
