// normfield prepare-scene: a full-size Blender or DTU (NeuS layout) scene -> the downscaled layout
// the docs use.
//
//   normfield prepare-scene --downscale 8 --in nerf_synthetic/lego --out $NORMFIELD_DATA/nerf_synthetic/lego_100
//   normfield prepare-scene --downscale 4 --in dtu_scan65 --out dtu_scan65_400x300
#include <cstdio>
#include <filesystem>
#include <string>

#include "app/commands.h"
#include "datasets/scene_prepare.h"

namespace nf::app {
namespace {

struct Prepare {
  std::string in, out;
  int downscale = 4;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<Prepare>();
  auto* sub = app.add_subcommand(
      "prepare-scene",
      "downscale a full-size Blender scene (transforms_*.json + PNGs) or DTU scene (NeuS layout: image/, mask/, "
      "cameras_sphere.npz) into the layout the docs use: images box-averaged (Blender: alpha premultiplied), "
      "transforms copied / DTU intrinsics rescaled");
  sub->add_option("--in", st->in, "scene folder (transforms_train.json, ... or cameras_sphere.npz, image/, mask/)")
      ->required();
  sub->add_option("--out", st->out, "output scene folder (created)")->required();
  sub->add_option("--downscale", st->downscale, "integer factor that divides the image size (lego 800 px / 8 = lego_100)")
      ->capture_default_str();
  set_action(sub, [st]() {
    if (!std::filesystem::is_directory(st->in)) throw std::runtime_error("--in " + st->in + ": no such folder");
    const std::filesystem::path in(st->in);
    const bool dtu = !std::filesystem::exists(in / "transforms_train.json") &&
                     std::filesystem::exists(in / "cameras_sphere.npz");
    const auto r = dtu ? prepare_dtu_scene(in, st->out, st->downscale) : prepare_blender_scene(in, st->out, st->downscale);
    const std::string rest = dtu ? std::to_string(r.masks) + " masks, cameras_sphere.npz rescaled"
                                 : std::string("transforms_*.json copied");
    std::printf("prepare-scene: %lld %s images %lldx%lld -> %lldx%lld (box average), %s, into %s\n",
                static_cast<long long>(r.images), r.kind.c_str(), static_cast<long long>(r.in_w),
                static_cast<long long>(r.in_h), static_cast<long long>(r.out_w), static_cast<long long>(r.out_h),
                rest.c_str(), st->out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
