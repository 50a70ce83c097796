#pragma once
// Shared by the libFuzzer harnesses: each writes the input to a file (the readers take paths) and
// calls one reader. A one-line std::exception is the expected answer to bad input; anything else
// (a crash, a sanitizer report, an uncaught exception, a hang) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fields/memory_check.h"

namespace nf_fuzz {

// A per-process scratch folder in /dev/shm (or /tmp).
inline std::filesystem::path scratch() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    auto d = base / ("normfield-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    // Memory estimates refuse what would not fit in the fuzzer's -rss_limit_mb (2 GB by default).
    ::setenv("NORMFIELD_MEMORY_LIMIT", "1000000000", 0);
    return d;
  }();
  return dir;
}

inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const auto p = scratch() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                             static_cast<std::streamsize>(size));
  return p.string();
}

}  // namespace nf_fuzz
