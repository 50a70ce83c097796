// normfield prepare-scene: a full-size Blender scene -> the downscaled layout the docs use.
//
//   normfield prepare-scene --downscale 8 --in nerf_synthetic/lego --out $NORMFIELD_DATA/nerf_synthetic/lego_100
#include <cstdio>
#include <filesystem>

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
      "downscale a full-size Blender scene (transforms_*.json + PNGs) into the layout the docs use: images box-averaged "
      "(alpha premultiplied), transforms copied");
  sub->add_option("--in", st->in, "scene folder (transforms_train.json, ...)")->required();
  sub->add_option("--out", st->out, "output scene folder (created)")->required();
  sub->add_option("--downscale", st->downscale, "integer factor that divides the image size (lego 800 px / 8 = lego_100)")
      ->capture_default_str();
  set_action(sub, [st]() {
    if (!std::filesystem::is_directory(st->in)) throw std::runtime_error("--in " + st->in + ": no such folder");
    if (!std::filesystem::exists(std::filesystem::path(st->in) / "transforms_train.json") &&
        std::filesystem::exists(std::filesystem::path(st->in) / "cameras_sphere.npz"))
      throw std::runtime_error("--in " + st->in + ": a DTU scene (NeuS layout): not supported yet, only Blender scenes");
    const auto r = prepare_blender_scene(st->in, st->out, st->downscale);
    std::printf("prepare-scene: %lld %s images %lldx%lld -> %lldx%lld (box average), transforms_*.json copied, into %s\n",
                static_cast<long long>(r.images), r.kind.c_str(), static_cast<long long>(r.in_w),
                static_cast<long long>(r.in_h), static_cast<long long>(r.out_w), static_cast<long long>(r.out_h),
                st->out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
