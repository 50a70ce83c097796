#pragma once
// Up-front memory estimates: a run whose sizes cannot fit (fit-ct --angles 100000000, --arch with a
// billion-wide layer, a 2e9-vertex mesh) is refused with the number before anything is allocated,
// instead of an OOM kill or a bare std::bad_alloc minutes later.
#include <nlohmann/json.hpp>

#include <string>

namespace nf {

// Physical memory of this machine in bytes (sysconf); NORMFIELD_MEMORY_LIMIT (bytes) overrides it
// (tests, or a share of a node).
double machine_memory_bytes();
// "12.3 GB" / "456 MB" / "1.2e+19 bytes" for very large values.
std::string format_bytes(double bytes);
// Throws std::runtime_error "<what> needs about X of memory, more than this machine's Y" when
// bytes exceed the machine's memory.
void require_memory(double bytes, const std::string& what);
// Rough training memory of a field config (registry.h keys hidden_layers/depth, width, in_dim,
// out_dim, encoding): parameters with their gradients and Adam moments, plus the activations (and
// their gradients) of `points` points per step. A lower bound: good enough to refuse the absurd.
double field_train_bytes(const nlohmann::json& field_config, double points);
// Also rejects counts that no config means (hidden_layers or depth over kMaxLayers): a million
// Linear modules takes minutes to build and forever to train.
constexpr long long kMaxLayers = 1000;
void check_field_size(const nlohmann::json& field_config, double points, const std::string& what);

}  // namespace nf
