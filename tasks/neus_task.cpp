// NeuS training, evaluation, meshes (see neus_task.h).
#include "tasks/neus_task.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <sstream>

#include "datasets/chamfer.h"
#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "fields/config.h"
#include "tasks/checkpoint.h"
#include "render/marching_cubes.h"
#include "render/mesh_blocks.h"
#include "render/nerf_render.h"
#include "render/neus_sampling.h"
#include "tasks/step_rng.h"
#include "tasks/task_options.h"

namespace nf {

// ------------------------------------------------------------------ options
nlohmann::json NeusOptions::to_json() const {
  return {{"scene", scene},
          {"downscale", downscale},
          {"batch", batch},
          {"n_samples", n_samples},
          {"n_importance", n_importance},
          {"up_sample_steps", up_sample_steps},
          {"perturb", perturb},
          {"igr_weight", igr_weight},
          {"mask_weight", mask_weight},
          {"anneal_end", anneal_end},
          {"white_bkgd", white_bkgd},
          {"seed", seed},
          {"holdout", holdout},
          {"eval_max_views", eval_max_views},
          {"chunk", chunk},
          {"calib_batches", calib_batches},
          {"norm_stats", norm_stats},
          {"mesh_resolution", mesh_resolution},
          {"mesh_block", mesh_block},
          {"gt", gt},
          {"chamfer_points", chamfer_points},
          {"chamfer_max_dist", chamfer_max_dist}};
}

NeusOptions NeusOptions::from_json(const nlohmann::json& j, const std::string& where, NeusOptions o, bool strict) {
  check_options_keys(j, o.to_json(), where, "neus", strict);
  o.scene = cfg_get(j, "scene", o.scene, where);
  o.downscale = cfg_get(j, "downscale", o.downscale, where);
  o.batch = cfg_get(j, "batch", o.batch, where);
  o.n_samples = cfg_get(j, "n_samples", o.n_samples, where);
  o.n_importance = cfg_get(j, "n_importance", o.n_importance, where);
  o.up_sample_steps = cfg_get(j, "up_sample_steps", o.up_sample_steps, where);
  o.perturb = cfg_get(j, "perturb", o.perturb, where);
  o.igr_weight = cfg_get(j, "igr_weight", o.igr_weight, where);
  o.mask_weight = cfg_get(j, "mask_weight", o.mask_weight, where);
  o.anneal_end = cfg_get(j, "anneal_end", o.anneal_end, where);
  o.white_bkgd = cfg_get(j, "white_bkgd", o.white_bkgd, where);
  o.seed = cfg_get(j, "seed", o.seed, where);
  o.holdout = cfg_get(j, "holdout", o.holdout, where);
  o.eval_max_views = cfg_get(j, "eval_max_views", o.eval_max_views, where);
  o.chunk = cfg_get(j, "chunk", o.chunk, where);
  o.calib_batches = cfg_get(j, "calib_batches", o.calib_batches, where);
  o.norm_stats = cfg_get(j, "norm_stats", o.norm_stats, where);
  if (o.norm_stats != "uniform" && o.norm_stats != "final")
    throw ConfigError(where + ": key 'norm_stats' must be uniform or final, got '" + o.norm_stats + "'");
  o.mesh_resolution = cfg_get(j, "mesh_resolution", o.mesh_resolution, where);
  o.mesh_block = cfg_get(j, "mesh_block", o.mesh_block, where);
  o.gt = cfg_get(j, "gt", o.gt, where);
  o.chamfer_points = cfg_get(j, "chamfer_points", o.chamfer_points, where);
  o.chamfer_max_dist = cfg_get(j, "chamfer_max_dist", o.chamfer_max_dist, where);
  if (o.batch < 1 || o.n_samples < 2 || o.chunk < 1 || o.downscale < 1 || o.calib_batches < 1 ||
      o.mesh_resolution < 2 || o.mesh_block < 1 || o.chamfer_points < 1)
    throw ConfigError(where + ": batch, chunk, downscale, calib_batches, mesh_block, chamfer_points must be >= 1, "
                              "n_samples and mesh_resolution >= 2");
  if (o.up_sample_steps < 0 || o.n_importance < 0 || (o.up_sample_steps > 0 && o.n_importance % o.up_sample_steps))
    throw ConfigError(where + ": n_importance must be a multiple of up_sample_steps (both >= 0)");
  if (o.up_sample_steps == 0 && o.n_importance > 0)
    throw ConfigError(where + ": n_importance > 0 needs up_sample_steps >= 1");
  if (o.holdout < 0 || o.holdout == 1) throw ConfigError(where + ": holdout must be 0 (none) or >= 2");
  return o;
}

NeusRenderOptions NeusOptions::render_options(double cos_anneal_ratio, bool perturb_) const {
  NeusRenderOptions r;
  r.n_samples = n_samples;
  r.n_importance = n_importance;
  r.up_sample_steps = up_sample_steps;
  r.perturb = perturb_;
  r.cos_anneal_ratio = cos_anneal_ratio;
  r.uniform_stats = norm_stats == "uniform";
  return r;
}

NeuSImpl& as_neus(FieldImpl& field, const std::string& what) {
  auto* m = dynamic_cast<NeuSImpl*>(&field);
  if (!m)
    throw std::runtime_error(what + ": field type '" + field.config().value("type", std::string("?")) +
                             "' is not a neus field");
  return *m;
}

Mesh neus_mesh(NeuSImpl& field, int64_t resolution, int64_t block, const at::Tensor& scale_mat,
               const c10::Device& device, double level, const std::function<bool(double)>& progress) {
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device);
  const at::Tensor lo = at::full({3}, -1.0, opt), hi = at::full({3}, 1.0, opt);
  // The scene lives in the unit sphere: the solid is {sdf < 0} cut by the sphere, so the mesh is closed.
  FieldFn fn = [&field](const at::Tensor& x) { return at::maximum(field.sdf(x), x.norm(2, {1}) - 1.0); };
  BlockMeshOptions bo;  // the same mesh as extract_mesh on the whole grid, in bounded memory
  bo.resolution = resolution;
  bo.level = level;
  bo.inside_is_greater = false;
  bo.block = block;
  bo.progress = progress;
  auto mesh = extract_mesh_blockwise(fn, lo, hi, bo);
  if (scale_mat.defined() && mesh.num_vertices() > 0) {
    auto S = scale_mat.to(at::kDouble).to(at::kCPU);
    auto v = mesh.vertices.to(at::kDouble).to(at::kCPU);
    auto A = S.slice(0, 0, 3).slice(1, 0, 3), t = S.slice(0, 0, 3).select(1, 3);
    mesh.vertices = (at::matmul(v, A.t()) + t).to(at::kFloat);
    if (mesh.normals.defined()) {
      auto n = at::matmul(mesh.normals.to(at::kDouble).to(at::kCPU), at::inverse(A));  // inverse-transpose
      mesh.normals = (n / n.norm(2, {1}, true).clamp_min(1e-12)).to(at::kFloat);
    }
    mesh.faces = mesh.faces.to(at::kCPU);
  }
  return mesh;
}

nlohmann::json mesh_chamfer(const Mesh& mesh, const std::string& gt, int64_t n_points, double max_dist) {
  auto v = mesh.vertices.to(at::kCPU).to(at::kDouble), f = mesh.faces.to(at::kCPU);
  auto a = v.index_select(0, f.select(1, 0)), b = v.index_select(0, f.select(1, 1)), c = v.index_select(0, f.select(1, 2));
  const double area = 0.5 * at::cross(b - a, c - a, 1).norm(2, {1}).sum().item<double>();
  if (!(area > 0)) throw std::runtime_error("chamfer: the predicted mesh has zero area");
  const double density = static_cast<double>(n_points) / area;
  auto pred = sample_surface(mesh, density, 0);
  auto ref = load_points(gt, density, 1);
  const double diag = (std::get<0>(ref.max(0)) - std::get<0>(ref.min(0))).to(at::kDouble).norm().item<double>();
  const double cap = max_dist > 0 ? max_dist : 0.05 * diag;
  auto r = chamfer(pred, ref, cap);
  return {{"accuracy", r.accuracy},       {"completeness", r.completeness}, {"overall", r.overall},
          {"max_dist", cap},              {"bbox_diagonal", diag},          {"overall_pct_diagonal", 100 * r.overall / diag},
          {"gt", gt},                     {"n_pred", r.n_pred},             {"n_gt", r.n_gt}};
}

at::Tensor neus_vertex_colors(NeuSImpl& field, const at::Tensor& vertices, const at::Tensor& scale_mat,
                              const c10::Device& device, int64_t chunk) {
  auto v = vertices.to(at::kDouble).to(at::kCPU);
  if (scale_mat.defined()) {  // world -> the field's frame: x = A^-1 (w - t)
    auto S = scale_mat.to(at::kDouble).to(at::kCPU);
    auto A = S.slice(0, 0, 3).slice(1, 0, 3), t = S.slice(0, 0, 3).select(1, 3);
    v = at::matmul(v - t, at::inverse(A).t());
  }
  v = v.to(at::kFloat).to(device);
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < v.size(0); i += chunk) {
    auto x = v.slice(0, i, std::min(v.size(0), i + chunk));
    c10::NoGradGuard no_grad;  // sdf_feature_gradient enables autograd for grad_x sdf only
    auto r = field.sdf_feature_gradient(x, /*create_graph=*/false);
    auto n = r.gradient / r.gradient.norm(2, {1}, true).clamp_min(1e-12);
    out.push_back(field.color(x, -n, n, r.feature.detach()).detach().clamp(0, 1).to(at::kCPU));
  }
  return out.empty() ? at::zeros({0, 3}, at::kFloat) : at::cat(out, 0);
}

Mesh neus_mesh_from_checkpoint(const std::filesystem::path& checkpoint, int64_t resolution, double level,
                               int64_t block, const c10::Device& device, std::string* norm_mode, bool colors) {
  const std::string p = checkpoint.string();
  if (resolution < 2) throw std::runtime_error(p + ": --resolution must be >= 2");
  CheckpointMeta meta;
  Field field = load_field(checkpoint, &meta);
  auto& m = as_neus(*field, p);
  m.to(device);
  m.eval();
  at::Tensor S;
  if (meta.task_config.is_object() && meta.task_config.contains("scale_mat")) {
    const auto& j = meta.task_config["scale_mat"];
    if (!j.is_array() || j.size() != 16) throw std::runtime_error(p + ": task config key 'scale_mat' is not 16 numbers");
    S = at::zeros({16}, at::kDouble);
    for (int i = 0; i < 16; ++i) S[i] = j[i].get<double>();
    S = S.view({4, 4});
  }
  bool frozen = true;
  for (auto& n : m.norm_layers()) frozen = frozen && n->mode() == NormMode::Frozen;
  if (norm_mode)
    *norm_mode = !nerf_needs_frozen_stats(m) ? (m.norm_layers().empty() ? "none" : "per-sample norm")
                 : frozen ? "frozen (statistics from the checkpoint)"
                          : "batch (checkpoint has no frozen statistics: the mesh depends on --block)";
  auto mesh = neus_mesh(m, resolution, block, S, device, level);
  if (colors && mesh.num_vertices() > 0) mesh.colors = neus_vertex_colors(m, mesh.vertices, S, device);
  return mesh;
}

// ------------------------------------------------------------------ task
Camera NeusTask::camera(int k) const {
  Camera c;
  c.width = scene_.W;
  c.height = scene_.H;
  auto K = scene_.intrinsics[k];
  c.fx = K[0][0].item<double>();
  c.fy = K[1][1].item<double>();
  c.cx = K[0][2].item<double>();
  c.cy = K[1][2].item<double>();
  c.c2w = scene_.c2w[k].to(at::kFloat);
  return c;
}

NeusTask::NeusTask(NeusOptions options, const c10::Device& device) : options_(std::move(options)), device_(device) {
  DtuOptions dopt;
  dopt.downscale = options_.downscale;
  scene_ = load_dtu(options_.scene, dopt);
  const int F = static_cast<int>(scene_.images.size(0));
  if (options_.mask_weight > 0 && !scene_.has_masks)
    throw std::runtime_error(options_.scene + ": no mask/ folder, but mask_weight is " +
                             std::to_string(options_.mask_weight) + " (set it to 0 to train without masks)");
  for (int k = 0; k < F; ++k) {
    const bool held = options_.holdout >= 2 && k % options_.holdout == options_.holdout / 2;
    (held ? eval_views_ : train_views_).push_back(k);
  }
  if (train_views_.empty()) throw std::runtime_error(options_.scene + ": no training views left after the holdout");
  if (eval_views_.empty())  // no holdout: evaluate on training views
    for (int k = 0; k < F; ++k) eval_views_.push_back(k);
  if (options_.eval_max_views >= 0 && static_cast<int>(eval_views_.size()) > options_.eval_max_views)
    eval_views_.resize(options_.eval_max_views);
  std::vector<at::Tensor> o, d, rgb, mask;
  for (int k : train_views_) {
    auto rays = generate_rays(camera(k), 0.0, 1.0);
    o.push_back(rays.origins);
    d.push_back(rays.viewdirs);
    rgb.push_back(scene_.images[k].reshape({-1, 3}));
    mask.push_back(scene_.masks[k].reshape({-1}));
  }
  rays_o_ = at::cat(o).to(at::kFloat).to(device_);
  rays_d_ = at::cat(d).to(at::kFloat).to(device_);
  rgb_ = at::cat(rgb).to(at::kFloat).to(device_);
  mask_ = at::cat(mask).to(at::kFloat).to(device_);
}

void NeusTask::check_field(const FieldImpl& field) const {
  if (!dynamic_cast<const NeuSImpl*>(&field))
    throw std::runtime_error(options_.scene + ": the neus task needs a field of type 'neus', got '" +
                             field.config().value("type", std::string("?")) + "'");
}

at::Tensor NeusTask::batch_indices(int64_t step) const {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(options_.seed, step));
  return at::randint(rays_o_.size(0), {options_.batch}, gen, at::TensorOptions().dtype(at::kLong));
}

StepResult NeusTask::step(FieldImpl& field, int64_t step) {
  auto& m = as_neus(field);
  for (auto& n : m.norm_layers())  // training normalises with the batch's own statistics
    if (n->mode() != NormMode::Batch) n->set_mode(NormMode::Batch);
  const auto idx = batch_indices(step).to(device_);
  auto gen = seeded_generator(device_, step_seed(options_.seed, step) ^ 0x9E3779B97F4A7C15ULL);
  const double ratio = options_.anneal_end > 0
                           ? std::min(1.0, static_cast<double>(step) / static_cast<double>(options_.anneal_end))
                           : 1.0;
  auto ro = options_.render_options(ratio, options_.perturb);
  if (options_.white_bkgd) ro.background = at::ones({3}, rays_o_.options());
  auto r = neus_render_rays(m, rays_o_.index_select(0, idx), rays_d_.index_select(0, idx), ro, /*create_graph=*/true,
                            gen);
  const auto target = rgb_.index_select(0, idx);
  auto mask = options_.mask_weight > 0 ? (mask_.index_select(0, idx) > 0.5).to(at::kFloat)
                                       : at::ones({options_.batch}, rgb_.options());
  auto mask_sum = mask.sum() + 1e-5;
  auto color_loss = ((r.rgb - target).abs() * mask.unsqueeze(1)).sum() / mask_sum;
  auto loss = color_loss + options_.igr_weight * r.eikonal;
  at::Tensor mask_loss;
  if (options_.mask_weight > 0) {
    mask_loss = at::binary_cross_entropy(r.acc.clamp(1e-3, 1.0 - 1e-3), mask);
    loss = loss + options_.mask_weight * mask_loss;
  }
  const double mse = (((r.rgb.detach() - target).pow(2) * mask.unsqueeze(1)).sum() / (mask_sum * 3)).item<double>();
  std::map<std::string, double> metrics{{"psnr", mse > 0 ? -10 * std::log10(mse) : 100.0},
                                        {"color_loss", color_loss.item<double>()},
                                        {"eikonal", r.eikonal.item<double>()},
                                        {"inv_s", m.inv_s().item<double>()}};
  if (mask_loss.defined()) metrics["mask_loss"] = mask_loss.item<double>();
  return {loss, metrics};
}

std::string NeusTask::calibrate(FieldImpl& field) {
  auto& m = as_neus(field);
  if (!nerf_needs_frozen_stats(m)) {
    m.set_norm_mode(NormMode::Batch);
    return m.norm_layers().empty() ? "none" : "per-sample norm (no batch statistics)";
  }
  m.set_norm_mode(NormMode::Batch);
  std::vector<at::Tensor> pts;
  for (int b = 0; b < options_.calib_batches; ++b) {  // sample as a training step (batch mode)
    c10::NoGradGuard ng;
    const auto step = kCalibStep + b;
    const auto idx = batch_indices(step).to(device_);
    auto gen = seeded_generator(device_, step_seed(options_.seed, step) ^ 0x9E3779B97F4A7C15ULL);
    auto o = rays_o_.index_select(0, idx), d = rays_d_.index_select(0, idx);
    at::Tensor upts;
    auto z = neus_sample_rays(m, o, d, options_.render_options(1.0, options_.perturb), gen, &upts);
    if (options_.norm_stats == "uniform") {
      pts.push_back(upts);
      continue;
    }
    auto mid = neus_sections(z, 2.0 / static_cast<double>(options_.n_samples)).second;
    pts.push_back((o.unsqueeze(1) + d.unsqueeze(1) * mid.unsqueeze(2)).reshape({-1, 3}));
  }
  {
    c10::NoGradGuard ng;
    auto norms = m.norm_layers();
    for (auto& n : norms) n->begin_calibration();
    for (auto& p : pts) m.sdf(p);
    for (auto& n : norms) {
      n->end_calibration();
      n->frozen_count.fill_(static_cast<double>(pts[0].size(0)));  // CN: T of one training pass
      n->set_mode(NormMode::Frozen);
    }
  }
  std::ostringstream s;
  s << "frozen (statistics calibrated on the " << (options_.norm_stats == "uniform" ? "uniform" : "final-pass")
    << " samples of " << options_.calib_batches
    << " training batch" << (options_.calib_batches > 1 ? "es" : "") << " of " << options_.batch << " rays)";
  return s.str();
}

at::Tensor NeusTask::target(int k) const {
  auto t = scene_.images[k].to(at::kFloat);
  if (options_.mask_weight > 0) {  // the wmask target: background black (white with white_bkgd)
    auto mk = (scene_.masks[k] > 0.5).to(at::kFloat).unsqueeze(2);
    const double bg = options_.white_bkgd ? 1.0 : 0.0;
    t = t * mk + bg * (1 - mk);
  }
  return t;
}

nlohmann::json NeusTask::evaluate(FieldImpl& field) {
  auto& m = as_neus(field);
  m.eval();
  norm_mode_ = calibrate(m);
  evaluated_ = true;
  rendered_.clear();
  nlohmann::json views = nlohmann::json::array();
  double psum = 0, ssum = 0;
  auto ro = options_.render_options(1.0, false);
  if (options_.white_bkgd) ro.background = at::ones({3}, rays_o_.options());
  for (int k : eval_views_) {
    Rendered r;
    r.view = neus_render_view(m, camera(k), ro, options_.chunk, device_);
    r.target = target(k);
    r.name = scene_.files[k];
    const double p = psnr(r.view.rgb.clamp(0, 1), r.target), s = ssim(r.view.rgb.clamp(0, 1), r.target);
    psum += p;
    ssum += s;
    views.push_back({{"view", r.name}, {"index", k}, {"psnr", p}, {"ssim", s}});
    rendered_.push_back(std::move(r));
  }
  const double F = static_cast<double>(eval_views_.size());
  return {{"psnr", F > 0 ? psum / F : 0.0},
          {"ssim", F > 0 ? ssum / F : 0.0},
          {"views", views},
          {"n_views", eval_views_.size()},
          {"held_out", options_.holdout >= 2},
          {"resolution", std::to_string(scene_.W) + "x" + std::to_string(scene_.H)},
          {"norm_mode", norm_mode_},
          {"inv_s", m.inv_s().item<double>()},
          {"params", m.num_parameters()}};
}

void NeusTask::write_outputs(FieldImpl& field, const std::string& dir) {
  auto& m = as_neus(field);
  if (!evaluated_) evaluate(field);
  const std::filesystem::path d(dir);
  for (size_t k = 0; k < rendered_.size(); ++k) {
    const auto& r = rendered_[k];
    write_png(d / view_name("render", k), r.view.rgb.clamp(0, 1));
    write_png(d / view_name("normal", k), r.view.normal);
    write_png(d / view_name("compare", k), side_by_side({r.target, r.view.rgb.clamp(0, 1), r.view.normal}));
  }
  auto mesh = neus_mesh(m, options_.mesh_resolution, options_.mesh_block, scene_.scale_mat, device_);
  write_ply((d / "mesh.ply").string(), mesh);
  outputs_ = {{"mesh", {{"file", "mesh.ply"},
                        {"vertices", mesh.num_vertices()},
                        {"faces", mesh.num_faces()},
                        {"resolution", options_.mesh_resolution},
                        {"frame", "world (scale_mat)"}}}};
  // Chamfer against a known ground truth.
  std::string gt = options_.gt;
  if (gt.empty())
    for (const char* ext : {".ply", ".obj", ".off", ".stl"})
      if (std::filesystem::exists(std::filesystem::path(options_.scene) / (std::string("gt_mesh") + ext))) {
        gt = (std::filesystem::path(options_.scene) / (std::string("gt_mesh") + ext)).string();
        break;
      }
  if (!gt.empty() && mesh.num_faces() > 0)
    outputs_["chamfer"] = mesh_chamfer(mesh, gt, options_.chamfer_points, options_.chamfer_max_dist);
}

nlohmann::json NeusTask::config() const {
  auto j = options_.to_json();
  j["task"] = "neus";
  j["train_views"] = train_views_;
  j["eval_views"] = eval_views_;
  j["train_rays"] = rays_o_.size(0);
  j["width"] = scene_.W;
  j["height"] = scene_.H;
  std::vector<double> S;
  auto sm = scene_.scale_mat.to(at::kDouble).contiguous();
  for (int64_t i = 0; i < 16; ++i) S.push_back(sm.view(-1)[i].item<double>());
  j["scale_mat"] = S;
  return j;
}

}  // namespace nf
