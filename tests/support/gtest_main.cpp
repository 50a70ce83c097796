#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // ctest runs two test programs at once on 2 cores: one thread each avoids OpenMP/OpenBLAS
  // oversubscription (spinning threads made tests 10x slower).
  torch::set_num_threads(1);
  setenv("OMP_NUM_THREADS", "1", /*overwrite=*/0);  // for programs the tests start (the CLI)
  return RUN_ALL_TESTS();
}
