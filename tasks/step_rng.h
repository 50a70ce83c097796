#pragma once
// Per-step randomness shared by the ray-based tasks (NeRF, NeuS): every step's batch and jitter are
// a function of (seed, step) only, so a resumed run reproduces an uninterrupted one exactly.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace nf {

constexpr uint64_t kStepStride = 1000003ULL;
constexpr int64_t kCalibStep = 1000000007LL;  // a step index no run reaches: its own sample stream

inline uint64_t step_seed(uint64_t seed, int64_t step) { return seed * kStepStride + static_cast<uint64_t>(step); }

// A generator for `device` seeded with `seed`: a fresh CPU generator, or the device's default
// generator re-seeded (no CUDA headers needed), so a step's jitter depends on (seed, step) only.
inline at::Generator seeded_generator(const c10::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto g = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_current_seed(seed);
  return g;
}

// "<prefix>_007.png": file name of evaluated view k.
inline std::string view_name(const char* prefix, size_t k) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s_%03zu.png", prefix, k);
  return buf;
}

}  // namespace nf
