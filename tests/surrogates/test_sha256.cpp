// SHA-256 against the FIPS 180 test vectors.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "pins/core/check.hpp"
#include "pins/core/sha256.hpp"

TEST_CASE("SHA-256 of the FIPS 180 example messages") {
  const std::string empty;
  CHECK(pins::sha256_hex(empty.data(), 0) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string abc = "abc";
  CHECK(pins::sha256_hex(abc.data(), abc.size()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(m448.size() * 8 == 448);
  CHECK(pins::sha256_hex(m448.data(), m448.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno"
      "pq"
      "rsmnopqrstnopqrstu";
  CHECK(m896.size() * 8 == 896);
  CHECK(pins::sha256_hex(m896.data(), m896.size()) ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("SHA-256 streaming: one million 'a' fed in uneven pieces") {
  const std::string chunk(997, 'a');  // a prime, so pieces straddle block boundaries
  pins::Sha256 h;
  std::size_t left = 1000000;
  // Piece sizes wander over 1 … 997 bytes.
  for (std::size_t piece = 1; left > 0; piece = (piece * 7 + 61) % chunk.size() + 1) {
    const std::size_t n = std::min(piece, left);
    h.update(chunk.data(), n);
    left -= n;
  }
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK_THROWS_AS(h.update("x", 1), pins::Error);
  CHECK_THROWS_AS(h.digest(), pins::Error);
}

TEST_CASE("SHA-256 of messages around the padding boundary matches one-shot hashing") {
  // 55, 56 and 64 bytes are the lengths where the length field spills into a new block.
  for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string m(n, 'q');
    pins::Sha256 split;
    split.update(m.data(), n / 3);
    split.update(m.data() + n / 3, n - n / 3);
    CHECK(split.hex_digest() == pins::sha256_hex(m.data(), n));
  }
  // Known value for 64 bytes of 'a' (not a FIPS vector; computed with coreutils sha256sum).
  const std::string a64(64, 'a');
  CHECK(pins::sha256_hex(a64.data(), a64.size()) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}
