#pragma once
/// \file
/// SHA-256 (FIPS 180-4), used to fingerprint the weights in a model file. Self-contained so
/// that pins::core needs no crypto library.
///
/// Example:
/// \code
///   pins::Sha256 h;
///   h.update(bytes.data(), bytes.size());
///   std::string hex = h.hex_digest();  // 64 lowercase hex digits
/// \endcode

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace pins {

/// Streaming SHA-256: update() any number of times, then digest() or hex_digest() once.
class Sha256 {
 public:
  Sha256();
  /// Appends `size` bytes to the message.
  void update(const void* data, std::size_t size);
  /// Finishes the message and returns the 32-byte digest. Further calls are an error.
  std::array<std::uint8_t, 32> digest();
  /// digest() as 64 lowercase hexadecimal digits.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_;
  std::size_t buffered_ = 0;  // bytes waiting in buffer_
  std::uint64_t length_ = 0;  // message length in bytes
  bool finished_ = false;
};

/// SHA-256 of a byte range as 64 lowercase hex digits.
std::string sha256_hex(const void* data, std::size_t size);

}  // namespace pins
