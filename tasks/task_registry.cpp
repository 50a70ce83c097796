#include "tasks/task_registry.h"

#include <cmath>

#include <algorithm>

#include "datasets/ct_data.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "datasets/mri_data.h"
#include "datasets/test_images.h"
#include "fields/config.h"
#include "fields/registry.h"
#include "tasks/ct_task.h"
#include "tasks/image_task.h"
#include "tasks/mri_task.h"
#include "tasks/nerf_task.h"
#include "tasks/neus_task.h"
#include "tasks/occupancy_task.h"

namespace nf {
namespace {

using json = nlohmann::json;

std::string where_of(const json&, const std::string& task) { return "task config '" + task + "'"; }

// image: "image" (a PNG/JPEG path, or "zone-plate:N"), "downscale" (average KxK blocks), "rgb"
// (make the target RGB, as the viewer shows it), "coords", "batch", "seed".
std::unique_ptr<Task> build_image(const json& cfg, const c10::Device& device) {
  const std::string w = where_of(cfg, "image");
  const auto source = cfg_require<std::string>(cfg, "image", w);
  at::Tensor px;
  if (source.rfind("zone-plate:", 0) == 0) {
    int64_t n = 0;
    try {
      n = std::stoll(source.substr(11));
    } catch (const std::exception&) {
    }
    if (n < 2) throw ConfigError(w + ": key 'image': zone plate size must be >= 2, got '" + source.substr(11) + "'");
    px = zone_plate(n, 3);
  } else {
    auto img = load_image(source);
    px = img.channels == 3 || img.channels == 1 ? img.pixels : to_rgb(img.pixels);
  }
  if (cfg_get(cfg, "rgb", false, w) && px.size(2) != 3) px = to_rgb(px);
  const auto ds = cfg_get<int64_t>(cfg, "downscale", 1, w);
  if (ds > 1) {
    if (px.size(0) < ds || px.size(1) < ds)
      throw ConfigError(source + ": downscale " + std::to_string(ds) + " is larger than the image");
    px = at::avg_pool2d(px.permute({2, 0, 1}).unsqueeze(0), {ds, ds}).squeeze(0).permute({1, 2, 0}).contiguous();
  }
  ImageTaskOptions o;
  o.coords = cfg_get(cfg, "coords", o.coords, w);
  o.batch = cfg_get(cfg, "batch", o.batch, w);
  o.seed = cfg_get(cfg, "seed", o.seed, w);
  auto t = std::make_unique<ImageTask>(px, o, source);
  t->to(device);
  return t;
}

// ct: "image" (CT slice PNG or "shepp_logan"), "size", "angles", "noise", "noise_seed", "coords".
std::unique_ptr<Task> build_ct(const json& cfg, const c10::Device& device) {
  const std::string w = where_of(cfg, "ct");
  const auto image = cfg_get<std::string>(cfg, "image", "shepp_logan", w);
  const auto size = cfg_get<int64_t>(cfg, "size", 256, w);
  CtTaskOptions o;
  o.angles = cfg_get(cfg, "angles", o.angles, w);
  o.noise = cfg_get(cfg, "noise", o.noise, w);
  o.noise_seed = cfg_get(cfg, "noise_seed", o.noise_seed, w);
  o.coords = cfg_get(cfg, "coords", o.coords, w);
  return std::make_unique<CtTask>(load_ct_image(image, size).to(device), o, image);
}

// mri: "volume" (.npy), "downsample", "mask", "rate", "mask_seed", "noise".
std::unique_ptr<Task> build_mri(const json& cfg, const c10::Device& device) {
  const std::string w = where_of(cfg, "mri");
  const auto path = cfg_require<std::string>(cfg, "volume", w);
  MriTaskOptions o;
  o.mask = cfg_get(cfg, "mask", o.mask, w);
  o.rate = cfg_get(cfg, "rate", o.rate, w);
  o.mask_seed = cfg_get(cfg, "mask_seed", o.mask_seed, w);
  o.noise = cfg_get(cfg, "noise", o.noise, w);
  auto vol = load_mri(path);
  const auto ds = cfg_get<int64_t>(cfg, "downsample", 1, w);
  if (ds > 1) {
    if (vol.size(0) % ds || vol.size(1) % ds || vol.size(2) % ds)
      throw ConfigError(path + ": downsample " + std::to_string(ds) + " does not divide the volume size");
    vol = at::avg_pool3d(vol.unsqueeze(0).unsqueeze(0), {ds, ds, ds}).squeeze(0).squeeze(0).contiguous();
  }
  const std::string source = ds > 1 ? path + " (downsampled " + std::to_string(ds) + "x)" : path;
  return std::make_unique<MriTask>(vol.to(device), o, source);
}

// occupancy: "mesh" (.obj/.ply) and OccupancyTaskOptions' keys.
std::unique_ptr<Task> build_occupancy(const json& cfg, const c10::Device& device) {
  const std::string w = where_of(cfg, "occupancy");
  const auto path = cfg_require<std::string>(cfg, "mesh", w);
  OccupancyTaskOptions o;
  o.points = cfg_get(cfg, "points", o.points, w);
  o.uniform_fraction = cfg_get(cfg, "uniform_fraction", o.uniform_fraction, w);
  o.noise = cfg_get(cfg, "noise", o.noise, w);
  o.margin = cfg_get(cfg, "margin", o.margin, w);
  o.labels = cfg_get(cfg, "labels", o.labels, w);
  o.batch = cfg_get(cfg, "batch", o.batch, w);
  o.seed = cfg_get(cfg, "seed", o.seed, w);
  o.resolution = cfg_get(cfg, "resolution", o.resolution, w);
  o.threshold = cfg_get(cfg, "threshold", o.threshold, w);
  o.block = cfg_get(cfg, "block", o.block, w);
  o.gt_check = cfg_get(cfg, "gt_check", o.gt_check, w);
  return std::make_unique<OccupancyTask>(load_mesh(path), o, path, device);
}

// nerf: "scene" and NerfOptions' keys (a config file's "nerf" block).
std::unique_ptr<Task> build_nerf(const json& cfg, const c10::Device& device) {
  json j = cfg;
  j.erase("task");
  auto o = NerfOptions::from_json(j, where_of(cfg, "nerf"));
  if (o.scene.empty()) throw ConfigError(where_of(cfg, "nerf") + ": missing key 'scene'");
  return std::make_unique<NerfTask>(o, device);
}

std::vector<std::string> nerf_keys() {
  std::vector<std::string> k;
  const json all = NerfOptions{}.to_json();  // (not a temporary: items() refers to it)
  for (const auto& [key, v] : all.items()) k.push_back(key);
  return k;
}

// neus: "scene" and NeusOptions' keys (a config file's "neus" block).
std::unique_ptr<Task> build_neus(const json& cfg, const c10::Device& device) {
  json j = cfg;
  j.erase("task");
  auto o = NeusOptions::from_json(j, where_of(cfg, "neus"), NeusOptions{}, /*strict=*/true);
  if (o.scene.empty()) throw ConfigError(where_of(cfg, "neus") + ": missing key 'scene'");
  return std::make_unique<NeusTask>(o, device);
}

std::vector<std::string> neus_keys() {
  std::vector<std::string> k;
  const json all = NeusOptions{}.to_json();
  for (const auto& [key, v] : all.items()) k.push_back(key);
  return k;
}

void register_builtin_tasks(TaskRegistry& r) {
  r.add("image", {"fit an image: f(x, y) -> RGB (paper Table 1)",
                  {"image", "downscale", "rgb", "coords", "batch", "seed"},
                  "",
                  json::object(),
                  build_image,
                  [](const Task& t) {
                    return std::make_pair<int64_t, int64_t>(2, static_cast<const ImageTask&>(t).image().size(2));
                  },
                  "image"});
  // The paper's CT protocol (Table 4): 2x128, 20000 iterations, 5e-3 -> 5e-4 exponential, every method.
  r.add("ct", {"CT slice from a simulated sinogram: f(x, y) -> density (paper Table 4)",
               {"image", "size", "angles", "noise", "noise_seed", "coords"},
               "",
               {{"arch", "2x128"}, {"iters", 20000}, {"schedule", "exponential"}, {"lr", 5e-3}, {"lr_final", 5e-4}},
               build_ct,
               [](const Task&) { return std::make_pair<int64_t, int64_t>(2, 1); },
               "image"});
  // The paper's MRI protocol (Table 5): 2x256, 1000 iterations, 2e-3 constant, every method.
  r.add("mri", {"3-D MRI volume from undersampled k-space: f(x, y, z) -> intensity (paper Table 5)",
                {"volume", "downsample", "mask", "rate", "mask_seed", "noise"},
                "",
                {{"arch", "2x256"}, {"iters", 1000}, {"lr", 2e-3}},
                build_mri,
                [](const Task&) { return std::make_pair<int64_t, int64_t>(3, 1); },
                "volume"});
  // The paper's occupancy network (Table 3): 2x256, 5e-3 -> 5e-4 exponential.
  r.add("occupancy", {"occupancy of a mesh: f(x, y, z) -> logit of inside (paper Table 3)",
                      {"mesh", "points", "uniform_fraction", "noise", "margin", "labels", "batch", "seed",
                       "resolution", "threshold", "block", "gt_check"},
                      "",
                      {{"arch", "2x256"}, {"schedule", "exponential"}, {"lr", 5e-3}},
                      build_occupancy,
                      [](const Task&) { return std::make_pair<int64_t, int64_t>(3, 1); },
                      "mesh"});
  // mip-NeRF: the field comes whole from the config; lr_init 5e-4 when the config sets none.
  r.add("nerf", {"mip-NeRF (+ a norm layer) on a Blender scene (paper Table 6)",
                 nerf_keys(),
                 "nerf",
                 {{"lr", 5e-4}, {"config", "mipnerf_small"}},
                 build_nerf,
                 nullptr,
                 "scene"});
  // NeuS: the field comes whole from the config (type neus); lr 5e-4 as NeuS when the config sets none.
  r.add("neus", {"NeuS (+ a norm layer in the SDF network) on a DTU-style scene: surface reconstruction",
                 neus_keys(),
                 "neus",
                 {{"lr", 5e-4}, {"config", "neus_small"}},
                 build_neus,
                 nullptr,
                 "scene"});
}

}  // namespace

TaskRegistry& TaskRegistry::global() {
  static TaskRegistry* r = [] {
    auto* reg = new TaskRegistry;
    register_builtin_tasks(*reg);
    return reg;
  }();
  return *r;
}

void TaskRegistry::add(const std::string& name, TaskEntry entry) { entries_[name] = std::move(entry); }

std::vector<std::string> TaskRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : entries_) n.push_back(k);
  return n;
}

const TaskEntry& TaskRegistry::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string valid;
    for (const auto& n : names()) valid += (valid.empty() ? "" : ", ") + n;
    throw ConfigError("unknown task '" + name + "' (valid: " + valid + ")");
  }
  return it->second;
}

std::unique_ptr<Task> make_task(const json& cfg, const c10::Device& device) {
  if (!cfg.is_object()) throw ConfigError("task config must be a JSON object, got " + cfg.dump());
  const auto name = cfg_require<std::string>(cfg, "task", "task config");
  const auto& e = TaskRegistry::global().get(name);
  for (const auto& [key, v] : cfg.items()) {
    if (key == "task" || std::find(e.keys.begin(), e.keys.end(), key) != e.keys.end()) continue;
    std::string valid;
    for (const auto& k : e.keys) valid += (valid.empty() ? "" : ", ") + k;
    throw ConfigError("task config '" + name + "': unknown key '" + key + "' (valid: " + valid + ")");
  }
  return e.build(cfg, device);
}

json task_config_from(const std::string& task, const json& file_config, const json& given) {
  const auto& e = TaskRegistry::global().get(task);
  json out = json::object();
  if (!e.config_block.empty()) {
    if (file_config.contains(e.config_block)) out = file_config[e.config_block];
  } else {
    for (const auto& k : e.keys)
      if (file_config.contains(k)) out[k] = file_config[k];
  }
  for (const auto& [k, v] : given.items()) out[k] = v;
  out["task"] = task;
  return out;
}

json task_config_from_stored(const json& stored, const std::string& where) {
  const auto name = cfg_require<std::string>(stored, "task", where);
  const auto& e = TaskRegistry::global().get(name);
  json out = {{"task", name}};
  for (const auto& k : e.keys)
    if (stored.contains(k)) out[k] = stored[k];
  if (!e.source_key.empty() && !out.contains(e.source_key) && stored.contains("source"))
    out[e.source_key] = stored["source"];
  return out;
}

json default_protocol() {
  return {{"method", "pe+cn"}, {"arch", "10x28"},     {"iters", 2000},         {"lr", -1.0},
          {"lr_final", -1.0},  {"schedule", "constant"}, {"log_every", 100}, {"checkpoint_every", 0},
          {"seed", 0}};
}

json task_protocol(const std::string& task) {
  auto p = default_protocol();
  for (const auto& [k, v] : TaskRegistry::global().get(task).protocol.items()) p[k] = v;
  return p;
}

namespace {
// A protocol value set by a config file or a flag: refused (naming where and the key) when it would
// silently become something else (lr 0 -> the default, iters -1 -> no training, 16.7 -> 16).
void check_protocol_value(const std::string& k, double v, const std::string& where) {
  const auto bad = [&](const std::string& what) {
    throw ConfigError(where + ": key '" + k + "': must be " + what + ", got " + json(v).dump());
  };
  if (!std::isfinite(v)) bad("a finite number");
  if (k == "lr" || k == "lr_final") {
    if (!(v > 0)) bad("a number > 0");
    return;
  }
  if (k == "iters" || k == "log_every" || k == "checkpoint_every" || k == "seed") {
    const double lo = (k == "iters" || k == "log_every") ? 1 : 0;
    if (v != std::floor(v)) throw ConfigError(where + ": key '" + k + "' must be an integer, got " + json(v).dump());
    if (v < lo || v > 9.0e15) bad(std::string("a whole number >= ") + (lo ? "1" : "0"));
  }
}
}  // namespace

json merge_protocol(const std::string& task, const json& file_config, const json& given, const std::string& where) {
  auto p = task_protocol(task);
  const bool task_lr_final = TaskRegistry::global().get(task).protocol.contains("lr_final");
  bool lr_set = false, lr_final_set = false;
  for (const json* layer : {&file_config, &given}) {
    for (auto& [k, v] : p.items()) {
      if (k == "config" || !layer->contains(k)) continue;
      const auto& nv = (*layer)[k];
      const bool ok = v.is_string() ? nv.is_string() : v.is_number() ? nv.is_number() : true;
      if (!ok) throw ConfigError(where + ": key '" + k + "' has the wrong type (" + nv.dump() + ")");
      if (nv.is_number()) check_protocol_value(k, nv.get<double>(), where);
      v = nv;
      if (k == "lr") lr_set = true;
      if (k == "lr_final") lr_final_set = true;
    }
  }
  if (task_lr_final && lr_set && !lr_final_set) p["lr_final"] = -1.0;
  return p;
}

double paper_default_lr(bool has_norm) { return has_norm ? 1e-2 : 2e-4; }
double paper_default_lr(const std::string& method) { return paper_default_lr(method_has_norm(method)); }
namespace {
// lr < 0 is the "not given" default (-1); anything else must be a usable learning rate, so an explicit
// bad value is refused instead of silently becoming the paper's default.
double checked_lr(double lr) {
  if (!(lr > 0) || !std::isfinite(lr)) throw ConfigError("--lr: must be a finite number > 0, got " + json(lr).dump());
  return lr;
}
}  // namespace
double resolve_lr(double lr, FieldImpl& field) { return lr < 0 ? paper_default_lr(!field.norm_layers().empty()) : checked_lr(lr); }
double resolve_lr(double lr, const std::string& method) { return lr < 0 ? paper_default_lr(method) : checked_lr(lr); }

}  // namespace nf
