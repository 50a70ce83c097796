#pragma once
// Quoting file bytes in an error message (docs/conventions.md: a newline in a file must not turn
// the one-line error into two).
#include <string>

namespace nf {

// Bytes of the input quoted in an error: control and non-ASCII bytes become '?', at most max kept
// ("..." marks a cut).
inline std::string printable(const std::string& bytes, size_t max = 40) {
  std::string s = bytes.substr(0, max);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return bytes.size() > max ? s + "..." : s;
}

}  // namespace nf
