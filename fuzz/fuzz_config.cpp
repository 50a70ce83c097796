// libFuzzer harness: JSON field configs through the registry, the way fit_task builds a field:
// parse (with "parent" files refused: one file only), size check, make_field, one forward.
#include <ATen/ATen.h>

#include <stdexcept>

#include "fields/config.h"
#include "fields/memory_check.h"
#include "fields/registry.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nf_fuzz::scratch();  // sets the memory limit
  try {
    auto cfg = nf::parse_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    if (!cfg.is_object()) return 0;
    nf::check_field_size(cfg, 16, "fuzz field");
    auto f = nf::make_field(cfg);
    if (f->in_dim() > 0 && f->in_dim() < 64) (void)f->forward(at::rand({16, f->in_dim()}));
  } catch (const std::exception&) {
  }
  return 0;
}
