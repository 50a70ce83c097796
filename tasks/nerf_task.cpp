// mip-NeRF training, evaluation and rendering on Blender scenes (see nerf_task.h).
#include "tasks/nerf_task.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "datasets/image_metrics.h"
#include "fields/config.h"
#include "render/ipe.h"
#include "render/samplers.h"
#include "tasks/step_rng.h"
#include "tasks/task_options.h"

namespace nf {
namespace {


at::Tensor mse(const at::Tensor& a, const at::Tensor& b) { return (a - b).pow(2).mean(); }

}  // namespace

// ------------------------------------------------------------------ options
nlohmann::json NerfOptions::to_json() const {
  return {{"scene", scene},
          {"downscale", downscale},
          {"max_train_frames", max_train_frames},
          {"n_coarse", n_coarse},
          {"n_fine", n_fine},
          {"batch", batch},
          {"chunk", chunk},
          {"coarse_loss_mult", coarse_loss_mult},
          {"resample_padding", resample_padding},
          {"lindisp", lindisp},
          {"white_bkgd", white_bkgd},
          {"seed", seed},
          {"calib_batches", calib_batches},
          {"eval_split", eval_split},
          {"eval_max_views", eval_max_views},
          {"eval_skip", eval_skip},
          {"recalibrate", recalibrate},
          {"preview_every", preview_every}};
}

NerfOptions NerfOptions::from_json(const nlohmann::json& j, const std::string& where, NerfOptions o, bool strict) {
  check_options_keys(j, o.to_json(), where, "nerf", strict);
  o.scene = cfg_get(j, "scene", o.scene, where);
  o.downscale = cfg_get(j, "downscale", o.downscale, where);
  o.max_train_frames = cfg_get(j, "max_train_frames", o.max_train_frames, where);
  o.n_coarse = cfg_get(j, "n_coarse", o.n_coarse, where);
  o.n_fine = cfg_get(j, "n_fine", o.n_fine, where);
  o.batch = cfg_get(j, "batch", o.batch, where);
  o.chunk = cfg_get(j, "chunk", o.chunk, where);
  o.coarse_loss_mult = cfg_get(j, "coarse_loss_mult", o.coarse_loss_mult, where);
  o.resample_padding = cfg_get(j, "resample_padding", o.resample_padding, where);
  o.lindisp = cfg_get(j, "lindisp", o.lindisp, where);
  o.white_bkgd = cfg_get(j, "white_bkgd", o.white_bkgd, where);
  o.seed = cfg_get(j, "seed", o.seed, where);
  o.calib_batches = cfg_get(j, "calib_batches", o.calib_batches, where);
  o.eval_split = cfg_get(j, "eval_split", o.eval_split, where);
  o.eval_max_views = cfg_get(j, "eval_max_views", o.eval_max_views, where);
  o.eval_skip = cfg_get(j, "eval_skip", o.eval_skip, where);
  o.recalibrate = cfg_get(j, "recalibrate", o.recalibrate, where);
  o.preview_every = cfg_get(j, "preview_every", o.preview_every, where);
  if (o.n_coarse < 1 || o.n_fine < 1 || o.batch < 1 || o.chunk < 1 || o.downscale < 1 || o.calib_batches < 1 ||
      o.eval_skip < 1)
    throw ConfigError(where + ": n_coarse, n_fine, batch, chunk, downscale, calib_batches, eval_skip must be >= 1");
  return o;
}

NerfOptions NerfOptions::from_json(const nlohmann::json& j, const std::string& where) {
  return from_json(j, where, NerfOptions{}, true);
}

nlohmann::json NerfCamera::to_json() const {
  return {{"height", H}, {"width", W}, {"focal", focal}, {"near", near}, {"far", far}};
}

NerfCamera NerfCamera::from_json(const nlohmann::json& j, const std::string& where) {
  NerfCamera c;
  c.H = cfg_require<int>(j, "height", where);
  c.W = cfg_require<int>(j, "width", where);
  c.focal = cfg_require<double>(j, "focal", where);
  c.near = cfg_get(j, "near", 2.0, where);
  c.far = cfg_get(j, "far", 6.0, where);
  return c;
}

// ------------------------------------------------------------------ rendering
NerfView render_view(MipNeRFImpl& field, const NerfCamera& cam, const at::Tensor& c2w, const NerfRenderOptions& o,
                     const c10::Device& device) {
  return render_view(field, cam.at(c2w), cam.near, cam.far, o, device);
}

at::Tensor load_pose_list(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": no such pose file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = parse_json(ss.str(), path.string());
  nlohmann::json list = j;
  if (j.is_object()) {
    if (!j.contains("frames") || !j["frames"].is_array())
      throw std::runtime_error(path.string() + ": expected a list of 4x4 matrices or {\"frames\": [...]}");
    list = nlohmann::json::array();
    for (size_t k = 0; k < j["frames"].size(); ++k) {
      const auto& f = j["frames"][k];
      if (!f.is_object() || !f.contains("transform_matrix"))
        throw std::runtime_error(path.string() + ": frame " + std::to_string(k) + ": missing key 'transform_matrix'");
      list.push_back(f["transform_matrix"]);
    }
  }
  if (!list.is_array() || list.empty())
    throw std::runtime_error(path.string() + ": expected a non-empty list of 4x4 matrices");
  auto poses = at::zeros({static_cast<int64_t>(list.size()), 4, 4}, at::kFloat);
  auto acc = poses.accessor<float, 3>();
  for (size_t k = 0; k < list.size(); ++k) {
    const auto& m = list[k];
    bool ok = m.is_array() && (m.size() == 4 || m.size() == 3);
    for (size_t r = 0; ok && r < m.size(); ++r) {
      ok = m[r].is_array() && m[r].size() == 4;
      for (size_t c = 0; ok && c < 4; ++c) {
        ok = m[r][c].is_number();
        if (ok) acc[k][r][c] = m[r][c].get<float>();
      }
    }
    if (!ok) throw std::runtime_error(path.string() + ": entry " + std::to_string(k) + " is not a 4x4 (or 3x4) matrix");
    if (m.size() == 3) acc[k][3][3] = 1.0f;
    check_pose(poses[k].contiguous().data_ptr<float>(), 16, path.string() + ": entry " + std::to_string(k));
  }
  return poses;
}

// ------------------------------------------------------------------ task
NerfTask::NerfTask(NerfOptions options, const c10::Device& device) : options_(std::move(options)), device_(device) {
  BlenderOptions bo;
  bo.white_bkgd = options_.white_bkgd;
  bo.downscale = options_.downscale;
  bo.max_frames = options_.max_train_frames;
  auto split = load_blender(options_.scene, "train", bo);
  camera_.H = split.H;
  camera_.W = split.W;
  camera_.focal = split.focal;
  camera_.near = split.near;
  camera_.far = split.far;
  train_frames_ = split.images.size(0);
  train_poses_ = split.poses.to(at::kCPU, at::kFloat).clone();
  train_files_ = split.files;
  std::vector<Rays> parts;
  double rsum = 0, esum = 0;
  for (int64_t f = 0; f < train_frames_; ++f) {
    const auto c2w = split.poses[f];
    parts.push_back(generate_rays(split.H, split.W, split.focal, c2w, split.near, split.far));
    const double x = c2w[0][3].item<double>(), y = c2w[1][3].item<double>(), z = c2w[2][3].item<double>();
    const double r = std::sqrt(x * x + y * y + z * z);
    rsum += r;
    esum += std::asin(std::clamp(z / std::max(r, 1e-12), -1.0, 1.0)) * 180.0 / M_PI;
  }
  orbit_radius_ = rsum / static_cast<double>(train_frames_);
  orbit_elevation_ = esum / static_cast<double>(train_frames_);
  rays_ = Rays::cat(parts).to(at::TensorOptions().device(device_));
  rgb_ = split.images.reshape({-1, 3}).to(device_);
}

at::Tensor NerfTask::batch_indices(int64_t step) const {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(options_.seed, step));
  return at::randint(rays_.size(), {options_.batch}, gen, at::TensorOptions().dtype(at::kLong));
}

NerfRays NerfTask::render_step(FieldImpl& field, int64_t step) {
  auto& m = as_mipnerf(field);
  const auto idx = batch_indices(step).to(device_);
  // Jitter: its own generator, seeded from (seed, step) (a device's default generator is re-seeded).
  auto gen = seeded_generator(device_, step_seed(options_.seed, step) ^ 0x9E3779B97F4A7C15ULL);
  return render_rays(m, rays_.index(idx), options_, /*randomized=*/true, gen);
}

StepResult NerfTask::step(FieldImpl& field, int64_t step) {
  for (auto& n : field.norm_layers())  // training always normalises with the batch's own statistics
    if (n->mode() != NormMode::Batch) n->set_mode(NormMode::Batch);
  auto r = render_step(field, step);
  const at::Tensor target = rgb_.index_select(0, batch_indices(step).to(device_));
  auto loss_c = mse(r.coarse.rgb, target), loss_f = mse(r.fine.rgb, target);
  auto loss = options_.coarse_loss_mult * loss_c + loss_f;
  const double mf = loss_f.item<double>(), mc = loss_c.item<double>();
  return {loss, {{"psnr", mf > 0 ? -10 * std::log10(mf) : 100.0}, {"psnr_coarse", mc > 0 ? -10 * std::log10(mc) : 100.0}}};
}

std::string NerfTask::calibrate(FieldImpl& field, int64_t calib_step) {
  auto& m = as_mipnerf(field);
  if (!nerf_needs_frozen_stats(m)) {
    m.set_norm_mode(NormMode::Batch);
    return m.norm_layers().empty() ? "none" : "per-sample norm (no batch statistics)";
  }
  if (calib_step < 0) calib_step = kCalibStep;
  std::vector<Rays> rays(options_.calib_batches);
  std::vector<at::Tensor> vencs(options_.calib_batches), t_fine(options_.calib_batches);
  const at::Tensor bg = options_.white_bkgd ? at::ones({3}, rays_.origins.options()) : at::zeros({3}, rays_.origins.options());
  const int vmax = static_cast<int>(m.options.view_max_deg());
  m.calibrate_nerf(
      [&] {  // coarse passes (calibrating); the fine samples are drawn right after each, as in step()
        for (int b = 0; b < options_.calib_batches; ++b) {
          const auto step = calib_step + b;
          const auto idx = batch_indices(step).to(device_);
          rays[b] = rays_.index(idx);
          auto gen = seeded_generator(device_, step_seed(options_.seed, step) ^ 0x9E3779B97F4A7C15ULL);
          vencs[b] = pos_enc(rays[b].viewdirs, 0, vmax, true);
          auto t = sample_stratified(rays[b], options_.n_coarse, true, gen, options_.lindisp);
          auto coarse = nerf_pass(m, rays[b], t, vencs[b], bg, NerfPass::Coarse);
          t_fine[b] = sample_pdf(t, coarse.weights, options_.n_fine, true, gen, options_.resample_padding);
        }
      },
      [&] {  // fine passes (calibrating)
        for (int b = 0; b < options_.calib_batches; ++b) nerf_pass(m, rays[b], t_fine[b], vencs[b], bg, NerfPass::Fine);
      },
      options_.batch * options_.n_coarse, options_.batch * options_.n_fine);
  std::ostringstream s;
  s << "frozen (per-pass statistics calibrated on " << options_.calib_batches << " training batch"
    << (options_.calib_batches > 1 ? "es" : "") << " of " << options_.batch << " rays, sampled as in training)";
  return s.str();
}

void NerfTask::load_eval_split() {
  if (eval_loaded_) return;
  BlenderOptions bo;
  bo.white_bkgd = options_.white_bkgd;
  bo.downscale = options_.downscale;
  bo.max_frames = options_.eval_max_views;
  bo.skip = options_.eval_skip;
  eval_ = load_blender(options_.scene, options_.eval_split, bo);
  eval_loaded_ = true;
}

nlohmann::json NerfTask::evaluate(FieldImpl& field) {
  auto& m = as_mipnerf(field);
  m.eval();
  if (!nerf_needs_frozen_stats(m))
    norm_mode_ = calibrate(m);
  else if (options_.recalibrate || !m.has_pass_stats())
    norm_mode_ = calibrate(m);
  else {
    m.set_norm_mode(NormMode::Frozen);
    norm_mode_ = "frozen (per-pass statistics stored in the checkpoint)";
  }
  load_eval_split();
  eval_views_.clear();
  nlohmann::json views = nlohmann::json::array();
  double psum = 0, ssum = 0;
  const int64_t F = eval_.images.size(0);
  for (int64_t k = 0; k < F; ++k) {
    auto v = render_view(m, camera_, eval_.poses[k], options_, device_);
    const auto gt = eval_.images[k];
    const double p = psnr(v.rgb.clamp(0, 1), gt), s = ssim(v.rgb.clamp(0, 1), gt);
    psum += p;
    ssum += s;
    views.push_back({{"view", eval_.files[k]}, {"psnr", p}, {"ssim", s}});
    eval_views_.push_back(std::move(v));
  }
  // Say when eval_skip / eval_max_views leave fewer views than eval_max_views asks for (a preset's
  // eval_skip 25 assumes a 200-view test split: on an 8-view split it scores one view).
  int64_t in_split = -1;
  try {
    std::ifstream in(std::filesystem::path(options_.scene) / ("transforms_" + options_.eval_split + ".json"));
    in_split = static_cast<int64_t>(nlohmann::json::parse(in).at("frames").size());
  } catch (const std::exception&) {  // load_eval_split() already read this file; only the count is lost
  }
  std::string warning;
  if (options_.eval_max_views > 0 && F < options_.eval_max_views) {
    std::ostringstream w;
    w << options_.scene << ": only " << F << " " << options_.eval_split << " view" << (F == 1 ? "" : "s")
      << " evaluated, fewer than eval_max_views " << options_.eval_max_views << " (the split has " << in_split
      << " views";
    if (options_.eval_skip > 1)
      w << "; eval_skip " << options_.eval_skip << " keeps every " << options_.eval_skip
        << "th: set eval_skip to 1 in the config, or --skip 1, to score more";
    w << ")";
    warning = w.str();
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  return {{"psnr", F ? psum / F : 0.0},
          {"ssim", F ? ssum / F : 0.0},
          {"views", views},
          {"split", options_.eval_split},
          {"n_views", F},
          {"views_in_split", in_split},
          {"eval_skip", options_.eval_skip},
          {"eval_max_views", options_.eval_max_views},
          {"eval_warning", warning},
          {"resolution", std::to_string(camera_.W) + "x" + std::to_string(camera_.H)},
          {"norm_mode", norm_mode_},
          {"params", m.num_parameters()}};
}

void NerfTask::write_outputs(FieldImpl& field, const std::string& dir) {
  if (eval_views_.empty()) evaluate(field);
  const std::filesystem::path d(dir);
  for (size_t k = 0; k < eval_views_.size(); ++k) {
    const auto& v = eval_views_[k];
    auto depth = depth_to_image(v.depth, v.acc, camera_.near, camera_.far);
    write_png(d / view_name("render", k), v.rgb.clamp(0, 1));
    write_png(d / view_name("depth", k), depth);
    write_png(d / view_name("compare", k), upscale_nearest(side_by_side({eval_.images[k], v.rgb.clamp(0, 1), depth})));
  }
}

nlohmann::json NerfTask::config() const {
  auto j = options_.to_json();
  j["task"] = "nerf";
  j["camera"] = camera_.to_json();
  j["train_frames"] = train_frames_;
  j["train_rays"] = rays_.size();
  j["orbit_radius"] = orbit_radius_;
  j["orbit_elevation_deg"] = orbit_elevation_;
  return j;
}

}  // namespace nf
