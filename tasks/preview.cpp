#include "tasks/preview.h"

namespace nf {

at::Tensor c2w_tensor(const PreviewCamera& camera) {
  auto t = at::empty({4, 4}, at::kDouble);
  for (int i = 0; i < 16; ++i) t.data_ptr<double>()[i] = camera.c2w[static_cast<size_t>(i)];
  return t.to(at::kFloat);
}

}  // namespace nf
