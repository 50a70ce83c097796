// Made the files in this folder with the code of main at dd01698 (before the fields moved to Options +
// TORCH_MODULE + key tables, issue 14): prints the state-dict names of each method (the list in
// tests/fields/test_registry.cpp, StateDictNamesAreTheOnesOlderCheckpointsHold) and, given a folder,
// writes two small checkpoints and each one's forward output on a fixed 8-point input
// (tests/tasks/test_checkpoint_compat.cpp loads them). Not built by the project: compile it against
// a build of that commit (g++ -std=c++17 -I<src> ... libnormfield_tasks.a ... libnormfield_fields.a
// + LibTorch) and run `./make_test_checkpoints tests/data/checkpoints`.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <iostream>
#include "fields/registry.h"
#include "tasks/checkpoint.h"
#include "datasets/npy.h"

int main(int argc, char** argv) {
  std::vector<std::string> methods = nf::method_names();
  for (const char* m : {"rff", "rff+cn", "mfn-gabor"}) methods.push_back(m);
  for (const auto& m : methods) {
    auto f = nf::make_field(nf::method_config(m, 2, 3, 3, 8));
    std::cout << "{\"" << m << "\", {";
    bool first = true;
    for (const auto& p : f->named_parameters()) { std::cout << (first ? "" : ", ") << "\"" << p.key() << "\""; first = false; }
    for (const auto& p : f->named_buffers()) { std::cout << (first ? "" : ", ") << "\"" << p.key() << "\""; first = false; }
    std::cout << "}},\n";
  }
  if (argc > 1) {
    const std::string dir = argv[1];
    for (const std::string m : {"rff+cn", "wire"}) {
      at::manual_seed(7);
      auto f = nf::make_field(nf::method_config(m, 2, 3, 2, 8));
      // one training-mode forward so the norm's running statistics move off their init
      auto x = at::rand({64, 2}) * 2 - 1;
      f->train();
      (void)f->forward(x);
      f->eval();
      nf::CheckpointMeta meta;
      meta.step = 1;
      meta.field_config = f->config();
      meta.task_config = nlohmann::json::object();
      meta.train_config = nlohmann::json::object();
      std::string name = m == "rff+cn" ? "rff_cn" : m;
      nf::save_checkpoint(dir + "/" + name + "_2x8.pt", *f, nullptr, meta);
      // The output of the checkpoint as this code loads it (load_field: the stored weights, buffers
      // and norm mode), in eval mode.
      auto loaded = nf::load_field(dir + "/" + name + "_2x8.pt");
      loaded->eval();
      auto grid = at::linspace(-1, 1, 16).view({8, 2});
      at::Tensor y;
      {
        at::NoGradGuard g;
        y = loaded->forward(grid);
      }
      nf::save_npy(dir + "/" + name + "_2x8_out.npy", y.contiguous());
    }
  }
}
