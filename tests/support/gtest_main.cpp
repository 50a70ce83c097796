#include <gtest/gtest.h>
#include <torch/utils.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // ctest runs two test programs at once on 2 cores: one thread each avoids OpenMP/OpenBLAS
  // oversubscription (spinning threads made tests 10x slower).
  torch::set_num_threads(1);
  return RUN_ALL_TESTS();
}
