#pragma once
// Shared by the libFuzzer harnesses (fuzz/fuzz_<reader>.cpp) and the corpus replay test
// (tests/tasks/test_fuzz_corpus.cpp). Each harness is a function nf_fuzz::<reader>(data, size) in
// fuzz/harness_<reader>.h: it writes the input to a file (the readers take paths), calls one reader
// and lets its exception out. The expected answer to bad input is a std::runtime_error (or
// nf::ConfigError) with ONE line, naming the input file where the harness says which; anything
// else (a crash, a sanitizer report, another exception type, a multi-line message, a hang) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace nf_fuzz {

// A per-process scratch folder in /dev/shm (or /tmp).
inline std::filesystem::path scratch() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    auto d = base / ("normfield-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    // Memory estimates refuse what would not fit in the fuzzer's -rss_limit_mb.
    ::setenv("NORMFIELD_MEMORY_LIMIT", "1000000000", 0);
    return d;
  }();
  return dir;
}

inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const auto p = scratch() / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                             static_cast<std::streamsize>(size));
  return p.string();
}

// Why an error thrown for bad input breaks the rules ("" when it is a good one): not a
// std::runtime_error, empty, more than one line, or not naming `name` (when not empty).
inline std::string bad_error(const std::exception& e, const std::string& name) {
  const std::string what = e.what();
  if (!dynamic_cast<const std::runtime_error*>(&e)) return "not a std::runtime_error: " + what;
  if (what.empty()) return "empty message";
  if (what.find('\n') != std::string::npos) return "more than one line: " + what;
  if (!name.empty() && what.find(name) == std::string::npos) return "does not name '" + name + "': " + what;
  return "";
}

// The libFuzzer entry: runs one harness; a bad error aborts (reported as a crash with the input).
template <class Harness>
int fuzz_one(Harness harness, const char* name, const uint8_t* data, size_t size) {
  try {
    harness(data, size);
  } catch (const std::exception& e) {
    const auto why = bad_error(e, name);
    if (!why.empty()) {
      std::fprintf(stderr, "normfield fuzz: bad error for bad input: %s\n", why.c_str());
      std::abort();
    }
  }
  return 0;
}

}  // namespace nf_fuzz
