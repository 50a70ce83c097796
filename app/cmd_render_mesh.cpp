// normfield render-mesh: a PNG of one or more meshes (grey, head-lit, several views; one row per mesh,
// all framed alike), e.g. a NeuS reconstruction above its ground truth.
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "datasets/mesh_picture.h"

namespace nf::app {
namespace {

struct RenderMesh {
  std::vector<std::string> meshes;
  std::string out, size = "256x256", up = "y", frame_by;
  int views = 4;
  double elevation = 20.0, azimuth = 30.0;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<RenderMesh>();
  auto* sub = app.add_subcommand("render-mesh", "PNG picture of meshes (OBJ/PLY): grey, head-lit, several views, one row per mesh");
  sub->add_option("--mesh", st->meshes, "mesh files (.obj or .ply); repeat for more rows")->required();
  sub->add_option("--out", st->out, "output PNG")->required();
  sub->add_option("--views", st->views, "views per mesh (azimuths around the up axis)")->capture_default_str();
  sub->add_option("--size", st->size, "tile size WxH")->capture_default_str();
  sub->add_option("--up", st->up, "world up axis: x, y, z, -x, -y, -z")->capture_default_str();
  sub->add_option("--elevation", st->elevation, "camera elevation in degrees")->capture_default_str();
  sub->add_option("--azimuth", st->azimuth, "azimuth of the first view in degrees")->capture_default_str();
  sub->add_option("--frame-by", st->frame_by, "mesh whose bounding sphere frames every row (default: the first --mesh)");
  set_action(sub, [st]() {
    MeshPictureOptions o;
    std::tie(o.width, o.height) = parse_wxh("--size", st->size, "256x256", 4);
    o.views = st->views;
    o.up = st->up;
    o.elevation_deg = st->elevation;
    o.azimuth0_deg = st->azimuth;
    std::vector<Mesh> meshes;
    for (const auto& path : st->meshes) {
      if (!std::filesystem::is_regular_file(path)) throw std::runtime_error(path + ": no such file (--mesh)");
      meshes.push_back(load_mesh(path));  // errors name the file
    }
    FramingSphere sphere;
    if (st->frame_by.empty()) {
      sphere = framing_sphere(meshes.front().vertices);
    } else {
      if (!std::filesystem::is_regular_file(st->frame_by)) throw std::runtime_error(st->frame_by + ": no such file (--frame-by)");
      sphere = framing_sphere(load_mesh(st->frame_by).vertices);
    }
    write_png(st->out, mesh_picture(meshes, sphere, o));
    std::printf("%s: %zu mesh(es) x %d views of %dx%d\n", st->out.c_str(), meshes.size(), o.views, o.width, o.height);
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
