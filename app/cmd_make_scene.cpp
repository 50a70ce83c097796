// normfield make-scene: a DTU-style scene (image/, mask/, cameras_sphere.npz, gt_mesh) rendered from
// a mesh with known geometry, so that NeuS runs can be scored with chamfer distances.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "datasets/make_scene.h"

namespace nf::app {
namespace {

struct MakeScene {
  std::string mesh, out, size = "200x150";
  int views = 48;
  double fov = 40.0, margin = 1.1;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<MakeScene>();
  auto* sub = app.add_subcommand("make-scene", "render a DTU-style scene (NeuS layout) from a mesh");
  sub->add_option("--mesh", st->mesh, "mesh file (.obj or .ply)")->required();
  sub->add_option("--out", st->out, "output scene folder")->required();
  sub->add_option("--views", st->views, "number of views (cameras on a sphere)")->capture_default_str();
  sub->add_option("--size", st->size, "image size WxH")->capture_default_str();
  sub->add_option("--fov", st->fov, "vertical field of view in degrees")->capture_default_str();
  sub->add_option("--margin", st->margin, "unit sphere = margin x the mesh's bounding sphere")->capture_default_str();
  set_action(sub, [st]() {
    MakeSceneOptions o;
    std::tie(o.width, o.height) = parse_wxh("--size", st->size, "200x150", 5);
    if (o.width < 8 || o.height < 8 || o.width > 8192 || o.height > 8192)
      throw std::runtime_error("--size: width and height must be in [8, 8192], got '" + st->size + "'");
    if (st->views < 1) throw std::runtime_error("--views: must be >= 1, got " + std::to_string(st->views));
    if (!(st->fov > 1 && st->fov < 170)) throw std::runtime_error("--fov: must be in (1, 170) degrees");
    if (!(st->margin >= 1)) throw std::runtime_error("--margin: must be >= 1");
    if (!std::filesystem::is_regular_file(st->mesh)) throw std::runtime_error(st->mesh + ": no such file (--mesh)");
    o.views = st->views;
    o.fov_y_deg = st->fov;
    o.margin = st->margin;
    const auto t0 = std::chrono::steady_clock::now();
    make_scene(st->mesh, st->out, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %d views of %dx%d from %s (%.1f s)\n", st->out.c_str(), o.views, o.width, o.height,
                st->mesh.c_str(), s);
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
