// libFuzzer harness: Blender transforms_train.json (cameras, frames, poses) through nf::load_blender.
// The frames' images do not exist: the JSON is parsed and checked before any image is read.
#include <stdexcept>

#include "datasets/blender.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto scene = nf_fuzz::scratch() / "scene";
  std::filesystem::create_directories(scene);
  nf_fuzz::write_input(data, size, "scene/transforms_train.json");
  try {
    (void)nf::load_blender(scene, "train");
  } catch (const std::exception&) {
  }
  return 0;
}
