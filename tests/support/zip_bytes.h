#pragma once
// Bytes of hand-made zip / .npz archives in the tests of bad files: little-endian integers and zip's CRC-32.
#include <cstdint>
#include <string>

namespace nf_test {

// Little-endian bytes of v (the low `bytes` bytes).
inline std::string le_bytes(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// CRC-32 (zip's polynomial) of s.
inline uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

}  // namespace nf_test
