// normfield fit-image: fit one image with a coordinate network and report PSNR/SSIM/bpp.
#include <iostream>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/image_io.h"
#include "fields/config.h"
#include "tasks/image_fit.h"
#include "tasks/fit.h"

namespace nf::app {
namespace {

struct FitImage {
  TrainFlags flags;
  std::string image;
  std::string coords = "reference";
  int64_t batch = 0;
  std::vector<int64_t> crop;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<FitImage>();
  auto* sub = app.add_subcommand("fit-image", "fit an image (PNG/JPEG, 8/16-bit) with a coordinate network");
  sub->add_option("--image", st->image, "image file")->required();
  st->flags.add_to(sub);
  sub->add_option("--coords", st->coords, "coordinate convention: reference (both axes / (H-1)) or aspect")
      ->capture_default_str();
  sub->add_option("--batch", st->batch, "pixels per step (0: the full image, as the paper)")
      ->capture_default_str()
      ->check(nonnegative_int());
  sub->add_option("--crop", st->crop, "crop X Y W H before fitting")->expected(4);
  set_action(sub, [st, sub]() {
    auto cfg = st->flags.apply_config(sub);
    check_config_keys(cfg, {"coords", "batch"}, st->flags.config_path);
    auto device = st->flags.setup();
    check_out_dir(st->flags.out);  // before any data loading or training
    auto img = load_image(st->image);
    auto pixels = img.channels == 3 ? img.pixels : (img.channels == 1 ? img.pixels : to_rgb(img.pixels));
    if (!st->crop.empty()) {
      const auto x = st->crop[0], y = st->crop[1], w = st->crop[2], h = st->crop[3];
      if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > pixels.size(1) || y + h > pixels.size(0))
        throw std::runtime_error(st->image + ": --crop " + std::to_string(x) + " " + std::to_string(y) + " " +
                                 std::to_string(w) + " " + std::to_string(h) + " is outside the " +
                                 std::to_string(pixels.size(1)) + "x" + std::to_string(pixels.size(0)) + " image");
      pixels = pixels.slice(0, y, y + h).slice(1, x, x + w).contiguous();
    }
    auto field_cfg = field_config_for(st->flags, cfg, 2, pixels.size(2));
    ImageTaskOptions topts;
    topts.coords = sub->count("--coords") ? st->coords : cfg_get(cfg, "coords", st->coords, st->flags.config_path);
    topts.batch = sub->count("--batch") ? st->batch : cfg_get(cfg, "batch", st->batch, st->flags.config_path);
    require_int_in(topts.batch, 0, kMaxInt, st->flags.config_path + ": key 'batch'");
    topts.seed = st->flags.seed;
    auto opts = st->flags.train_options("fit-image " + st->flags.method);
    auto r = fit_image(pixels, field_cfg, opts, topts, device, st->image);
    std::printf("%s %s: PSNR %.2f dB  SSIM %.4f  bpp %.3f  (%lld iters, %.1f ms/iter, norm mode: %s)\n",
                st->flags.method.c_str(), st->flags.arch.c_str(), r.metrics["psnr"].get<double>(),
                r.metrics["ssim"].get<double>(), r.metrics["bpp"].get<double>(),
                static_cast<long long>(r.metrics["iters"].get<int64_t>()), r.metrics["ms_per_iter"].get<double>(),
                r.metrics["norm_mode"].get<std::string>().c_str());
    std::printf("outputs in %s (results.json, comparison.png, reconstruction.png, error.png, checkpoint.pt)\n",
                st->flags.out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
