#pragma once
// Fuzz harness: checkpoint files (LibTorch zip archives + our JSON meta) through
// nf::read_checkpoint_meta, the size check and nf::load_field (errors name in.pt).
#include "fields/memory_check.h"
#include "fuzz/fuzz_util.h"
#include "tasks/checkpoint.h"

namespace nf_fuzz {
inline constexpr const char* checkpoint_name = "in.pt";
inline void checkpoint(const uint8_t* data, size_t size) {
  const auto path = write_input(data, size, checkpoint_name);
  const auto meta = nf::read_checkpoint_meta(path);
  nf::check_field_size(meta.field_config, 16, "checkpoint field");
  (void)nf::load_field(path);
}
}  // namespace nf_fuzz
