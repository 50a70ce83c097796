// libFuzzer harness: checkpoint files (LibTorch zip archives + our JSON meta) through
// nf::read_checkpoint_meta and nf::load_field. Crashes inside LibTorch's own zip reader are
// reported upstream, not fixed here (see docs/reliability.md).
#include <stdexcept>

#include "fields/memory_check.h"
#include "fuzz/fuzz_util.h"
#include "tasks/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nf_fuzz::write_input(data, size, "in.pt");
  try {
    const auto meta = nf::read_checkpoint_meta(path);
    nf::check_field_size(meta.field_config, 16, "checkpoint field");
    (void)nf::load_field(path);
  } catch (const std::exception&) {
  }
  return 0;
}
