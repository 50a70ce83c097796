// normfield export-mesh: marching cubes of a trained occupancy or NeuS (SDF) checkpoint (PLY or OBJ by
// extension), by the checkpoint's task; --colors (NeuS): vertex colours from the colour network.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <torch/cuda.h>

#include "app/commands.h"
#include "render/mesh.h"
#include "tasks/checkpoint.h"
#include "tasks/neus_task.h"
#include "tasks/occupancy_task.h"

namespace nf::app {
namespace {

struct ExportMesh {
  std::string checkpoint;
  int64_t resolution = 256;
  double threshold = 0.5;
  int64_t block = 64;
  std::string out = "mesh.ply";
  std::string device = "cpu";
  bool colors = false;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<ExportMesh>();
  auto* sub = app.add_subcommand("export-mesh", "extract the mesh of a trained occupancy or NeuS checkpoint");
  sub->add_option("--checkpoint", st->checkpoint, "checkpoint.pt written by fit-shape or neus train")->required();
  sub->add_option("--resolution", st->resolution, "grid resolution (nodes per axis)")->capture_default_str();
  sub->add_option("--threshold", st->threshold, "surface at sigmoid(f) = threshold (occupancy, default 0.5) or sdf = threshold (NeuS, default 0; inside < 0)")->capture_default_str();
  sub->add_option("--block", st->block, "block edge (block^3 points per forward)")->capture_default_str();
  sub->add_option("--out", st->out, "output mesh (.ply or .obj)")->capture_default_str();
  sub->add_option("--device", st->device, "cpu or cuda")->capture_default_str();
  sub->add_flag("--colors", st->colors,
                "NeuS: vertex colours from the colour network (normal = normalized grad sdf, view direction = -normal)");
  set_action(sub, [st, sub]() {
    auto ext = std::filesystem::path(st->out).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext != ".ply" && ext != ".obj")
      throw std::runtime_error(st->out + ": --out must end in .ply or .obj");
    if (st->device != "cpu" && st->device != "cuda")
      throw std::runtime_error("--device: unknown device '" + st->device + "' (valid: cpu, cuda)");
    if (st->device == "cuda" && !torch::cuda::is_available())
      throw std::runtime_error("--device cuda: no CUDA device available to LibTorch");
    const c10::Device device(st->device == "cuda" ? c10::kCUDA : c10::kCPU);
    std::string mode;
    const auto meta = read_checkpoint_meta(st->checkpoint);
    const bool sdf = meta.task_config.is_object() && meta.task_config.value("task", std::string()) == "neus";
    if (sdf && !sub->count("--threshold")) st->threshold = 0.0;
    if (st->colors && !sdf)
      throw std::runtime_error(st->checkpoint + ": --colors needs a NeuS checkpoint (an occupancy field has no colour network)");
    auto mesh = sdf ? neus_mesh_from_checkpoint(st->checkpoint, st->resolution, st->threshold, st->block, device, &mode,
                                                st->colors)
                    : occupancy_mesh_from_checkpoint(st->checkpoint, st->resolution, st->threshold, st->block, device,
                                                     &mode);
    if (ext == ".ply")
      write_ply(st->out, mesh);
    else
      write_obj(st->out, mesh);
    std::printf("%s: %lld vertices, %lld faces%s (resolution %lld, threshold %.3f, norm mode: %s)\n", st->out.c_str(),
                static_cast<long long>(mesh.num_vertices()), static_cast<long long>(mesh.num_faces()),
                mesh.colors.defined() ? ", vertex colours" : "", static_cast<long long>(st->resolution), st->threshold,
                mode.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
