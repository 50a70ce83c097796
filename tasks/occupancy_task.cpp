#include "tasks/occupancy_task.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <stdexcept>

#include "datasets/image_io.h"
#include "fields/registry.h"
#include "render/marching_cubes.h"
#include "tasks/checkpoint.h"
#include "tasks/fit.h"

namespace nf {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Node coordinates along one axis of the [-1, 1] grid, computed exactly as sample_grid does.
at::Tensor grid_axis(int64_t R) {  // -> [R] float
  const float step = static_cast<float>(2.0 / static_cast<double>(R - 1));
  return at::arange(R, at::kFloat) * step + static_cast<float>(-1.0);
}

// Points of the nodes with flat indices idx (i*R*R + j*R + k). idx: [n] long -> [n, 3] float
at::Tensor node_points(const at::Tensor& idx, int64_t R) {
  const at::Tensor ax = grid_axis(R);
  return at::stack({ax.index_select(0, at::div(idx, R * R, "floor")),
                    ax.index_select(0, at::remainder(at::div(idx, R, "floor"), R)),
                    ax.index_select(0, at::remainder(idx, R))},
                   1);
}

// Nodes with a grid neighbour of the other label. occ: [R, R, R] bool -> [R, R, R] bool
at::Tensor boundary_nodes(const at::Tensor& occ) {
  at::Tensor b = at::zeros_like(occ);
  const int64_t R = occ.size(0);
  for (int64_t a = 0; a < 3; ++a) {
    const at::Tensor d = occ.slice(a, 1, R).ne(occ.slice(a, 0, R - 1));
    b.slice(a, 1, R).logical_or_(d);
    b.slice(a, 0, R - 1).logical_or_(d);
  }
  return b;
}

// One slice as an RGB image, vertical axis up. s: [A, B] (first index horizontal) -> [B, A]
at::Tensor slice_image_axes(const at::Tensor& s) { return s.t().flip({0}); }

// Colours: both inside dark grey, both outside white, false positive red, false negative blue.
at::Tensor colour(const at::Tensor& pred, const at::Tensor& gt) {  // [H, W] bool x2 -> [H, W, 3]
  const int64_t H = pred.size(0), W = pred.size(1);
  at::Tensor img = at::ones({H, W, 3}, at::kFloat);
  auto paint = [&](const at::Tensor& mask, float r, float g, float b) {
    const at::Tensor c = at::tensor({r, g, b}, at::kFloat);
    img.index_put_({mask}, c);
  };
  paint(pred.logical_and(gt), 0.25f, 0.25f, 0.25f);
  paint(pred.logical_and(gt.logical_not()), 0.95f, 0.2f, 0.2f);
  paint(gt.logical_and(pred.logical_not()), 0.2f, 0.4f, 1.0f);
  return img;
}

at::Tensor slices_figure(const at::Tensor& gt, const at::Tensor& pred) {  // [R,R,R] bool x2 -> [H, W, 3]
  const int64_t R = gt.size(0), m = R / 2;
  const int64_t up = std::max<int64_t>(1, 256 / R);
  std::vector<at::Tensor> rows;
  for (int a = 0; a < 3; ++a) {
    // x-slice: horizontal z, vertical y; y-slice: horizontal x, vertical z; z-slice: x, y.
    at::Tensor g = gt.select(a, m), p = pred.select(a, m);
    if (a == 0) {
      g = g.t();
      p = p.t();
    }
    g = slice_image_axes(g);
    p = slice_image_axes(p);
    if (up > 1) {
      g = g.repeat_interleave(up, 0).repeat_interleave(up, 1);
      p = p.repeat_interleave(up, 0).repeat_interleave(up, 1);
    }
    rows.push_back(side_by_side({colour(g, g), colour(p, p), colour(p, g)}));
    if (a < 2) rows.push_back(at::ones({4, rows.back().size(1), 3}, at::kFloat));
  }
  return at::cat(rows, 0);
}

// Marching cubes of a logit grid at sigmoid = threshold over [-1, 1]^3. The outermost layer of
// nodes counts as outside (the mesh is normalised with a margin, so the ground truth is empty
// there): a stray positive at the border can then not open the surface, which stays closed.
// logits: [R, R, R] (any device; the CPU runs marching cubes)
Mesh closed_mesh(const at::Tensor& logits, double threshold) {
  const double level = std::log(threshold / (1 - threshold));
  at::Tensor g = logits.to(at::kCPU, at::kFloat).clone();
  const int64_t R = g.size(0);
  const float outside = static_cast<float>(level - 1.0);
  for (int64_t a = 0; a < 3; ++a) {
    g.select(a, 0).clamp_max_(outside);
    g.select(a, R - 1).clamp_max_(outside);
  }
  const at::Tensor lo = at::full({3}, -1.0, at::kFloat), hi = at::full({3}, 1.0, at::kFloat);
  return marching_cubes(g, level, lo, hi, /*inside_is_greater=*/true);
}

uint64_t mix(uint64_t seed, uint64_t stream) { return seed * 1000003ULL + stream; }
constexpr uint64_t kCalibrationStream = 1ULL << 62;
constexpr uint64_t kPointsStream = (1ULL << 62) + 1;
constexpr uint64_t kCheckStream = (1ULL << 62) + 2;

}  // namespace

nlohmann::json OccupancyTaskOptions::to_json() const {
  return {{"points", points},         {"uniform_fraction", uniform_fraction},
          {"noise", noise},           {"margin", margin},
          {"labels", labels},         {"batch", batch},
          {"seed", seed},             {"resolution", resolution},
          {"threshold", threshold},   {"block", block},
          {"gt_check", gt_check}};
}

OccupancyTask::OccupancyTask(const Mesh& mesh, OccupancyTaskOptions options, std::string source,
                             c10::Device device)
    : options_(std::move(options)), source_(std::move(source)), device_(device) {
  const std::string what = source_.empty() ? "occupancy task" : source_;
  validate_mesh(mesh, what);
  if (options_.points < 1) throw std::runtime_error(what + ": points must be >= 1");
  if (options_.batch < 1) throw std::runtime_error(what + ": batch must be >= 1");
  if (options_.resolution < 2) throw std::runtime_error(what + ": resolution must be >= 2");
  if (!(options_.threshold > 0 && options_.threshold < 1))
    throw std::runtime_error(what + ": threshold must be in (0, 1)");
  if (!(options_.uniform_fraction >= 0 && options_.uniform_fraction <= 1))
    throw std::runtime_error(what + ": uniform_fraction must be in [0, 1]");
  for (double sd : options_.noise)
    if (!(sd >= 0)) throw std::runtime_error(what + ": noise levels must be >= 0");
  if (options_.labels != "fast" && options_.labels != "exact")
    throw std::runtime_error(what + ": labels must be 'fast' or 'exact', not '" + options_.labels + "'");
  mesh_ = normalize_to_cube(mesh, options_.margin);
  {  // Occupancy needs a closed surface: refuse what encloses nothing, warn about holes.
    const at::Tensor v = mesh_.vertices.to(at::kDouble);
    const at::Tensor ext = std::get<0>(v.max(0)) - std::get<0>(v.min(0));  // [3]
    for (int a = 0; a < 3; ++a)
      if (!(ext[a].item<double>() > 1e-9))
        throw std::runtime_error(what + ": mesh is flat (zero extent along " + std::string(1, char('x' + a)) +
                                 "): it encloses no volume, occupancy needs a closed surface");
    if (!(surface_area(mesh_) > 0))
      throw std::runtime_error(what + ": every face has zero area (degenerate mesh): occupancy needs a closed surface");
    const int64_t open = count_boundary_edges(mesh_);
    if (open > 0)
      std::cerr << "warning: " << what << ": open surface (" << open
                << " boundary edges, test: every edge shared by two faces): inside/outside labels and IoU may be "
                   "meaningless\n";
  }
  fast_ = std::make_unique<FastWinding>(mesh_);

  // The labelled point set: uniform + near-surface, deterministic in the seed.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(mix(options_.seed, kPointsStream));
  const int64_t N = options_.points;
  const int64_t n_uniform = options_.noise.empty() ? N : std::llround(N * options_.uniform_fraction);
  std::vector<at::Tensor> parts{at::rand({n_uniform, 3}, gen, at::kFloat) * 2 - 1};
  const int64_t n_surface = N - n_uniform;
  if (n_surface > 0) {
    const at::Tensor v = mesh_.vertices.to(at::kDouble);                             // [V, 3]
    const at::Tensor tri = v.index_select(0, mesh_.faces.reshape(-1)).reshape({-1, 3, 3});  // [F, 3, 3]
    const at::Tensor e1 = tri.select(1, 1) - tri.select(1, 0), e2 = tri.select(1, 2) - tri.select(1, 0);
    at::Tensor area = at::cross(e1, e2, 1).norm(2, {1});  // [F]
    if (area.sum().item<double>() <= 0) area = at::ones_like(area);
    const at::Tensor f = at::multinomial(area, n_surface, /*replacement=*/true, gen);  // [n]
    const at::Tensor r1 = at::rand({n_surface, 1}, gen, at::kDouble).sqrt();
    const at::Tensor r2 = at::rand({n_surface, 1}, gen, at::kDouble);
    const at::Tensor t = tri.index_select(0, f);  // [n, 3, 3]
    const at::Tensor surf = (1 - r1) * t.select(1, 0) + r1 * (1 - r2) * t.select(1, 1) + r1 * r2 * t.select(1, 2);
    const at::Tensor level = at::arange(n_surface, at::kLong).remainder(static_cast<int64_t>(options_.noise.size()));
    const at::Tensor sigma = at::tensor(options_.noise, at::kDouble).index_select(0, level).unsqueeze(1);
    parts.push_back((surf + at::randn({n_surface, 3}, gen, at::kDouble) * sigma).clamp(-1, 1).to(at::kFloat));
  }
  const at::Tensor pts = at::cat(parts, 0).contiguous();  // [N, 3]
  const auto t0 = std::chrono::steady_clock::now();
  const at::Tensor lab = options_.labels == "fast" ? fast_->occupancy(pts)
                                                   : occupancy_labels(mesh_, pts, OccupancyMethod::WindingNumber);
  label_seconds_ = seconds_since(t0);
  const double inside = lab.to(at::kDouble).mean().item<double>();
  if (!(inside > 0) || !(inside < 1))
    throw std::runtime_error(what + ": " + (inside > 0 ? "all" : "none") + " of the " + std::to_string(N) +
                             " labelled points are inside the mesh (open, inverted or degenerate surface; test: "
                             "inside fraction in (0, 1)): occupancy needs a closed surface");
  points_ = pts.to(device_);
  labels_ = lab.to(device_);
}

at::Tensor OccupancyTask::sample_indices(uint64_t stream) const {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(mix(options_.seed, stream));
  return at::randint(points_.size(0), {options_.batch}, gen, at::TensorOptions().dtype(at::kLong)).to(device_);
}

StepResult OccupancyTask::step(FieldImpl& field, int64_t step) {
  pred_field_ = nullptr;  // the field changes: cached evaluations are stale
  norm_mode_.clear();
  field.set_norm_mode(NormMode::Batch);  // training always uses batch statistics
  const at::Tensor idx = sample_indices(static_cast<uint64_t>(step));
  const at::Tensor x = points_.index_select(0, idx), y = labels_.index_select(0, idx);  // [B, 3], [B]
  const at::Tensor logits = field.forward(x).select(1, 0);                               // [B]
  at::Tensor loss = at::binary_cross_entropy_with_logits(logits, y);
  double acc;
  {
    c10::NoGradGuard ng;
    acc = logits.gt(0).eq(y.gt(0.5)).to(at::kFloat).mean().item<double>();
  }
  return {loss, {{"acc", acc}}};
}

std::string OccupancyTask::prepare_evaluation(FieldImpl& field) {
  if (field.norm_layers().empty()) return "none";
  field.set_norm_mode(NormMode::Batch);
  const at::Tensor idx = sample_indices(kCalibrationStream);
  field.calibrate(points_.index_select(0, idx));
  return "frozen (calibrated on one training batch of " + std::to_string(options_.batch) + " points)";
}

at::Tensor OccupancyTask::predict_grid(FieldImpl& field, int64_t resolution, int64_t block) const {
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device_);
  const at::Tensor lo = at::full({3}, -1.0, opt), hi = at::full({3}, 1.0, opt);
  FieldFn fn = [&field](const at::Tensor& x) { return field.forward(x).select(1, 0); };
  return sample_grid(fn, resolution, lo, hi, block).to(at::kCPU);
}

const at::Tensor& OccupancyTask::ground_truth_grid(int64_t R) {
  if (gt_res_ == R && gt_.defined()) return gt_;
  const auto t0 = std::chrono::steady_clock::now();
  gt_ = at::empty({R, R, R}, at::kBool);
  const at::Tensor ax = grid_axis(R);
  const int64_t slab = std::max<int64_t>(1, (int64_t(1) << 22) / (R * R));
  for (int64_t i0 = 0; i0 < R; i0 += slab) {
    const int64_t bi = std::min(slab, R - i0);
    const auto g = at::meshgrid({ax.slice(0, i0, i0 + bi), ax, ax}, "ij");
    const at::Tensor pts = at::stack({g[0], g[1], g[2]}, 3).reshape({-1, 3});  // [bi*R*R, 3]
    gt_.slice(0, i0, i0 + bi).copy_(fast_->occupancy(pts).gt(0.5).reshape({bi, R, R}));
  }
  gt_res_ = R;
  gt_seconds_ = seconds_since(t0);
  return gt_;
}

at::Tensor OccupancyTask::grid_cache(FieldImpl& field) {
  if (pred_.defined() && pred_field_ == &field && pred_res_ == options_.resolution) return pred_;
  if (norm_mode_.empty()) norm_mode_ = prepare_evaluation(field);
  pred_ = predict_grid(field, options_.resolution, options_.block);
  pred_field_ = &field;
  pred_res_ = options_.resolution;
  return pred_;
}

Mesh OccupancyTask::mesh_from_grid(const at::Tensor& logits) const {
  return closed_mesh(logits, options_.threshold);
}

nlohmann::json OccupancyTask::evaluate(FieldImpl& field) {
  const int64_t R = options_.resolution;
  auto t0 = std::chrono::steady_clock::now();
  norm_mode_ = prepare_evaluation(field);
  pred_field_ = nullptr;
  const at::Tensor pred = grid_cache(field);
  const double eval_seconds = seconds_since(t0);
  const at::Tensor& gt = ground_truth_grid(R);
  const double t = options_.threshold;
  const at::Tensor inside = pred.gt(std::log(t / (1 - t)));  // [R, R, R] bool
  const double inter = inside.logical_and(gt).sum().item<double>();
  const double uni = inside.logical_or(gt).sum().item<double>();
  const double n = static_cast<double>(R * R * R);
  nlohmann::json j{{"iou", uni > 0 ? inter / uni : 1.0},
                   {"resolution", R},
                   {"threshold", t},
                   {"norm_mode", norm_mode_},
                   {"inside_fraction_gt", gt.sum().item<double>() / n},
                   {"inside_fraction_pred", inside.sum().item<double>() / n},
                   {"accuracy", inside.eq(gt).sum().item<double>() / n},
                   {"eval_seconds", eval_seconds},
                   {"gt_method", "fast winding numbers (|w| >= 0.5) at every node"},
                   {"gt_seconds", gt_seconds_},
                   {"label_method", options_.labels == "fast" ? "fast winding numbers" : "exact winding numbers"},
                   {"label_seconds", label_seconds_},
                   {"params", field.num_parameters()}};
  if (options_.gt_check > 0) {
    // Re-label some nodes with the exact O(N * F) winding numbers: half at random, half among the
    // nodes next to the surface (where an approximation could flip a label).
    t0 = std::chrono::steady_clock::now();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(mix(options_.seed, kCheckStream));
    const int64_t half = options_.gt_check / 2;
    const at::Tensor rnd = at::randint(R * R * R, {options_.gt_check - half}, gen, at::TensorOptions().dtype(at::kLong));
    const at::Tensor near = boundary_nodes(gt).reshape(-1).nonzero().view(-1);
    at::Tensor near_pick = near;
    if (near.numel() > half) near_pick = near.index_select(0, at::randperm(near.numel(), gen).slice(0, 0, half));
    const at::Tensor idx = at::cat({rnd, near_pick});
    const at::Tensor exact = occupancy_labels(mesh_, node_points(idx, R), OccupancyMethod::WindingNumber).gt(0.5);
    const at::Tensor fast = gt.reshape(-1).index_select(0, idx);
    const at::Tensor agree = exact.eq(fast);
    const int64_t nr = rnd.numel();
    j["gt_check"] = {{"nodes", idx.numel()},
                     {"agreement", agree.to(at::kDouble).mean().item<double>()},
                     {"surface_nodes", near_pick.numel()},
                     {"surface_agreement",
                      near_pick.numel() ? agree.slice(0, nr).to(at::kDouble).mean().item<double>() : 1.0},
                     {"seconds", seconds_since(t0)}};
  }
  return j;
}

void OccupancyTask::write_outputs(FieldImpl& field, const std::string& dir) {
  const std::filesystem::path d(dir);
  std::filesystem::create_directories(d);
  const at::Tensor pred = grid_cache(field);
  last_mesh_ = mesh_from_grid(pred);
  write_ply((d / "mesh.ply").string(), last_mesh_);
  write_obj((d / "mesh.obj").string(), last_mesh_);
  const double t = options_.threshold;
  write_png(d / "slices.png", slices_figure(ground_truth_grid(options_.resolution), pred.gt(std::log(t / (1 - t)))));
}

nlohmann::json OccupancyTask::config() const {
  auto j = options_.to_json();
  j["task"] = "occupancy";
  j["source"] = source_;
  j["bbox_min"] = {-1.0, -1.0, -1.0};
  j["bbox_max"] = {1.0, 1.0, 1.0};
  j["faces"] = mesh_.num_faces();
  j["vertices"] = mesh_.num_vertices();
  return j;
}

void OccupancyTask::check_field(const FieldImpl& field) const {
  if (field.in_dim() != 3 || field.out_dim() != 1)
    throw std::runtime_error(source_ + ": occupancy needs a field R^3 -> R (in_dim 3, out_dim 1)");
}

nlohmann::json OccupancyTask::outputs_summary() const {
  return {{"mesh",
           {{"vertices", last_mesh_.num_vertices()},
            {"faces", last_mesh_.num_faces()},
            {"euler_characteristic", euler_characteristic(last_mesh_)},
            {"boundary_edges", count_boundary_edges(last_mesh_)}}}};
}

ShapeFitResult fit_shape(const Mesh& mesh, const nlohmann::json& field_config, const TrainOptions& opts,
                         const OccupancyTaskOptions& task_opts, const c10::Device& device,
                         const std::string& source) {
  OccupancyTask task(mesh, task_opts, source, device);
  auto f = fit_task(task, field_config, opts, device);
  ShapeFitResult r{std::move(f.metrics), {}, std::move(f.history)};
  if (!opts.out_dir.empty()) r.mesh = task.last_mesh();
  return r;
}

Mesh occupancy_mesh_from_checkpoint(const std::filesystem::path& checkpoint, int64_t resolution, double threshold,
                                    int64_t block, const c10::Device& device, std::string* norm_mode) {
  const std::string p = checkpoint.string();
  if (!(threshold > 0 && threshold < 1))
    throw std::runtime_error(p + ": --threshold " + std::to_string(threshold) + " is not in (0, 1)");
  if (resolution < 2) throw std::runtime_error(p + ": --resolution must be >= 2");
  CheckpointMeta meta;
  Field field = load_field(checkpoint, &meta);
  const std::string task = meta.task_config.is_object() ? meta.task_config.value("task", std::string()) : "";
  if (task != "occupancy")
    throw std::runtime_error(p + ": not an occupancy checkpoint (task '" + task + "')");
  if (field->in_dim() != 3 || field->out_dim() != 1)
    throw std::runtime_error(p + ": field is not R^3 -> R (in_dim " + std::to_string(field->in_dim()) +
                             ", out_dim " + std::to_string(field->out_dim()) + ")");
  field->to(device);
  field->eval();
  bool frozen = true;
  for (auto& n : field->norm_layers()) frozen = frozen && n->mode() == NormMode::Frozen;
  if (norm_mode)
    *norm_mode = field->norm_layers().empty() ? "none"
                 : frozen ? "frozen (statistics from the checkpoint)"
                          : "batch (checkpoint has no frozen statistics: the mesh depends on --block)";
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device);
  const at::Tensor lo = at::full({3}, -1.0, opt), hi = at::full({3}, 1.0, opt);  // the task's grid box
  FieldFn fn = [&field](const at::Tensor& x) { return field->forward(x).select(1, 0); };
  return closed_mesh(sample_grid(fn, resolution, lo, hi, block), threshold);
}

}  // namespace nf
