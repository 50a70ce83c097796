#pragma once
// Fuzz harness: JSON field configs through the registry, the way fit_task builds a field: parse
// (one file: "parent" files are not followed), size check, make_field, one forward. Errors name the
// field or key, not always the file (the CLI adds the file), so the name is not checked.
#include <ATen/ATen.h>

#include "fields/config.h"
#include "fields/memory_check.h"
#include "fields/registry.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* config_name = "";
inline void config(const uint8_t* data, size_t size) {
  scratch();  // sets the memory limit
  auto cfg = nf::parse_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!cfg.is_object()) return;
  nf::check_field_size(cfg, 16, "fuzz field");
  auto f = nf::make_field(cfg);
  if (f->in_dim() > 0 && f->in_dim() < 64) (void)f->forward(at::rand({16, f->in_dim()}));
}
}  // namespace nf_fuzz
