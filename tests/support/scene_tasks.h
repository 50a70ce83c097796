#pragma once
// What the tests of the scene tasks (NeRF, NeuS) share: a tiny synthetic Blender scene of the unit
// sphere, rendered analytically; a tiny DTU-style scene (make-scene of a mesh); tiny fields; the
// trainer options of short test runs and the losses at their start and end.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "datasets/image_io.h"
#include "datasets/make_scene.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "render/nerf_render.h"
#include "render/rays.h"
#include "tasks/nerf_task.h"
#include "tasks/trainer.h"

namespace nf_test {

// Colour of the unit sphere seen along rays (white background): (normal + 1) / 2 where hit.
inline at::Tensor render_unit_sphere(const nf::Rays& r) {
  auto d = r.viewdirs, o = r.origins;
  auto b = (o * d).sum(-1);        // [N]
  auto c = (o * o).sum(-1) - 1.0;  // [N]
  auto disc = b * b - c;
  auto t = -b - at::sqrt(at::clamp_min(disc, 0));
  auto col = (o + t.unsqueeze(-1) * d + 1) * 0.5;
  return at::where((disc > 0).unsqueeze(-1), col, at::ones_like(col)).clamp(0, 1);
}

// One split of a Blender scene of the unit sphere in `dir` (transforms_<split>.json, <split>/r_<k>.png):
// `frames` views of res x res pixels (lego's camera_angle_x) on an orbit of radius 4 at 30 degrees
// elevation (near 2, far 6), the orbit's start turned by az0 degrees about +z.
inline void write_sphere_split(const std::filesystem::path& dir, const std::string& split, int frames, double az0,
                               int res = 16) {
  constexpr double kFovX = 0.6911112070083618;  // lego's camera_angle_x
  const double focal = 0.5 * res / std::tan(0.5 * kFovX);
  auto poses = nf::orbit_poses(frames, 4.0, 30.0);
  nlohmann::json j{{"camera_angle_x", kFovX}, {"frames", nlohmann::json::array()}};
  const double a = az0 * M_PI / 180.0;
  auto R = at::eye(4, at::kFloat);
  R[0][0] = std::cos(a), R[0][1] = -std::sin(a), R[1][0] = std::sin(a), R[1][1] = std::cos(a);
  for (int f = 0; f < frames; ++f) {
    auto c2w = az0 == 0 ? poses[f] : at::matmul(R, poses[f]);
    auto rays = nf::generate_rays(res, res, focal, c2w, 2.0, 6.0);
    const std::string name = split + "/r_" + std::to_string(f);
    nf::write_png(dir / (name + ".png"), render_unit_sphere(rays).reshape({res, res, 3}));
    nlohmann::json m = nlohmann::json::array();
    for (int r = 0; r < 4; ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (int c = 0; c < 4; ++c) row.push_back(c2w[r][c].item<double>());
      m.push_back(row);
    }
    j["frames"].push_back({{"file_path", "./" + name}, {"transform_matrix", m}});
  }
  std::ofstream(dir / ("transforms_" + split + ".json")) << j.dump();
}

// make-scene of `mesh` into dir: a DTU-style scene of 8 views of 32x24.
inline void make_tiny_dtu_scene(const std::filesystem::path& mesh, const std::filesystem::path& dir) {
  nf::MakeSceneOptions o;
  o.views = 8;
  o.width = 32;
  o.height = 24;
  nf::make_scene(mesh, dir, o);
}

// NeRF task options on `scene`: `samples` intervals per ray in each pass (coarse and fine), `batch`
// rays per step, `seed`.
inline nf::NerfOptions nerf_options(const std::string& scene, int64_t samples, int64_t batch, uint64_t seed) {
  nf::NerfOptions o;
  o.scene = scene;
  o.n_coarse = o.n_fine = samples;
  o.batch = batch;
  o.seed = seed;
  return o;
}

// A small mip-NeRF (preset "small", `width` wide, view branch width / 2), seeded with 0.
inline nf::Field tiny_mipnerf(const std::string& norm, int64_t width = 32) {
  torch::manual_seed(0);
  auto c = nf::mipnerf_config("small", norm);
  c["width"] = width;
  c["view_width"] = width / 2;
  return nf::make_field(c);
}

// The config of a small NeuS field (3 x 32 SDF layers, 16-wide colour network).
inline nlohmann::json tiny_neus_config(const std::string& norm) {
  return {{"type", "neus"},     {"sdf_depth", 3},   {"sdf_width", 32},   {"skip", 2},      {"multires", 2},
          {"feature_dim", 8}, {"color_depth", 1}, {"color_width", 16}, {"norm", norm}};
}

// Trainer options of a short quiet run: `iters` steps at a constant lr, outputs in dir ("" : none).
inline nf::TrainOptions quiet_train_options(int64_t iters, const std::filesystem::path& dir, double lr = 5e-3) {
  nf::TrainOptions o;
  o.iters = iters;
  o.lr = nf::lr_schedule_from_string("constant", lr, -1);
  o.out_dir = dir;
  o.progress = false;
  o.log_every = 1000;
  return o;
}

// The summed losses of the first 5 and of the last 5 steps of a trainer's history (5 steps or more).
inline std::pair<double, double> first_and_last_5_losses(const std::vector<nf::LogRecord>& h) {
  double first = 0, last = 0;
  for (size_t i = 0; i < 5; ++i) first += h[i].loss, last += h[h.size() - 1 - i].loss;
  return {first, last};
}

}  // namespace nf_test
