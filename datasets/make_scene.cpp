// Synthetic DTU-style scenes from a mesh (see make_scene.h).
#include "datasets/make_scene.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "fields/file_io.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "datasets/npz.h"

namespace nf {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
// Fixed light (world, pointing towards the light) and the shading terms.
const double kLight[3] = {0.40, 0.80, 0.45};
constexpr double kAmbient = 0.35, kDiffuse = 0.65;

at::Tensor normalize_rows(const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

at::Tensor vec3(double x, double y, double z) { return at::tensor({x, y, z}, at::kDouble); }

void check_options(const MakeSceneOptions& o) {
  if (o.views < 1) throw std::runtime_error("make-scene: views must be >= 1, got " + std::to_string(o.views));
  if (o.width < 8 || o.height < 8)
    throw std::runtime_error("make-scene: image size must be at least 8x8, got " + std::to_string(o.width) + "x" +
                             std::to_string(o.height));
  if (!(o.fov_y_deg > 1 && o.fov_y_deg < 170)) throw std::runtime_error("make-scene: fov must be in (1, 170) degrees");
  if (!(o.margin >= 1)) throw std::runtime_error("make-scene: margin must be >= 1");
}

}  // namespace

SceneCameras make_scene_cameras(const at::Tensor& vertices, const MakeSceneOptions& o) {
  check_options(o);
  const at::Tensor v = vertices.to(at::kCPU, at::kDouble);
  SceneCameras c;
  c.centre = (std::get<0>(v.min(0)) + std::get<0>(v.max(0))) * 0.5;
  c.radius = (v - c.centre).norm(2, 1).max().item<double>();
  if (!(c.radius > 0)) throw std::runtime_error("make-scene: the mesh has zero extent");
  c.sphere = o.margin * c.radius;
  const double W = o.width, H = o.height;
  const double fy = 0.5 * H / std::tan(0.5 * o.fov_y_deg * kPi / 180), fx = 1.03 * fy;
  const double cx = 0.5 * (W - 1) + 0.04 * W, cy = 0.5 * (H - 1) - 0.03 * H;
  // The sphere of radius `sphere` fits when its angular radius is below the narrowest half-angle.
  const double half = std::min({std::atan(std::min(cx, W - 1 - cx) / fx), std::atan(std::min(cy, H - 1 - cy) / fy)});
  const double dist = c.sphere / std::sin(0.92 * half);
  at::Tensor K = at::eye(3, at::kDouble);
  K[0][0] = fx;
  K[1][1] = fy;
  K[0][2] = cx;
  K[1][2] = cy;
  std::vector<at::Tensor> Ks, w2cs;
  const double golden = kPi * (3.0 - std::sqrt(5.0));
  for (int i = 0; i < o.views; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / o.views, r = std::sqrt(std::max(0.0, 1 - z * z)), ph = golden * i;
    // Direction from the centre to the camera; y is "up" for most meshes (bunny, dragon).
    const at::Tensor dir = vec3(r * std::cos(ph), z, r * std::sin(ph));
    const at::Tensor cam = c.centre + dist * dir;
    const at::Tensor fwd = -dir;
    const at::Tensor up = std::abs(z) > 0.98 ? vec3(0, 0, 1) : vec3(0, 1, 0);
    const at::Tensor right = normalize_rows(at::cross(fwd, up, 0));
    const at::Tensor down = at::cross(fwd, right, 0);
    const at::Tensor R = at::stack({right, down, fwd}, 0);  // rows: camera axes in the world
    w2cs.push_back(at::cat({R, (-at::matmul(R, cam)).view({3, 1})}, 1));
    Ks.push_back(K);
  }
  c.K = at::stack(Ks, 0);
  c.w2c = at::stack(w2cs, 0);
  return c;
}

at::Tensor scene_albedo(const at::Tensor& q_in) {
  const at::Tensor q = q_in.to(at::kDouble);
  const at::Tensor x = q.select(1, 0), y = q.select(1, 1), z = q.select(1, 2);
  // Smooth, non-periodic-looking 3-D patterns, different per channel, plus a finer common stripe.
  const at::Tensor fine = 0.1 * at::sin(23.0 * (x + 0.7 * y - 0.4 * z));
  const at::Tensor r = 0.5 + 0.25 * at::sin(9.0 * x + 4.0 * at::sin(6.0 * y)) + fine;
  const at::Tensor g = 0.5 + 0.25 * at::sin(11.0 * y + 4.0 * at::sin(7.0 * z) + 1.0) + fine;
  const at::Tensor b = 0.5 + 0.25 * at::sin(10.0 * z + 4.0 * at::sin(5.0 * x) + 2.0) - fine;
  return at::stack({r, g, b}, 1).clamp(0.15, 0.85).to(at::kFloat);
}

RenderedView render_scene_view(const RayCaster& caster, const Mesh& mesh,
                               const at::Tensor& K, const at::Tensor& w2c, int width, int height,
                               const at::Tensor& centre, double radius) {
  const at::Tensor Kd = K.to(at::kDouble), P = w2c.to(at::kDouble);
  const at::Tensor R = P.slice(1, 0, 3), t = P.select(1, 3);
  const at::Tensor cam = -at::matmul(R.t(), t);  // [3] camera centre
  const at::Tensor us = at::arange(width, at::kDouble), vs = at::arange(height, at::kDouble);
  const auto g = at::meshgrid({vs, us}, "ij");
  const at::Tensor pix = at::stack({g[1].reshape(-1), g[0].reshape(-1), at::ones({int64_t(width) * height}, at::kDouble)}, 1);
  const at::Tensor d_cam = at::matmul(pix, at::inverse(Kd).t());         // [N, 3]
  const at::Tensor dirs = normalize_rows(at::matmul(d_cam, R));          // R^T d per row
  const at::Tensor origins = cam.view({1, 3}).expand_as(dirs);
  const RayHits hits = caster.intersect(origins, dirs);
  const at::Tensor hit = hits.face >= 0;                                  // [N]
  const at::Tensor face = hits.face.clamp_min(0);
  const at::Tensor v = mesh.vertices.to(at::kCPU, at::kDouble), f = mesh.faces.to(at::kCPU, at::kLong);
  const at::Tensor tri = f.index_select(0, face);                          // [N, 3]
  const at::Tensor a = v.index_select(0, tri.select(1, 0)), b = v.index_select(0, tri.select(1, 1)),
                   c = v.index_select(0, tri.select(1, 2));
  at::Tensor n = normalize_rows(at::cross(b - a, c - a, 1));
  n = at::where(((n * dirs).sum(1, true) > 0), -n, n);                     // facing the camera
  const at::Tensor tt = at::where(hit, hits.t.to(at::kDouble), at::zeros_like(hits.t, at::kDouble));
  const at::Tensor p = origins + tt.unsqueeze(1) * dirs;
  const at::Tensor light = normalize_rows(vec3(kLight[0], kLight[1], kLight[2]));
  const at::Tensor shade = kAmbient + kDiffuse * at::matmul(n, light).clamp_min(0);  // [N]
  const at::Tensor albedo = scene_albedo((p - centre.to(at::kDouble)) / radius).to(at::kDouble);
  at::Tensor rgb = (albedo * shade.unsqueeze(1)).clamp(0, 1) * hit.unsqueeze(1).to(at::kDouble);
  RenderedView out;
  out.image = rgb.to(at::kFloat).view({height, width, 3}).contiguous();
  out.mask = hit.to(at::kFloat).view({height, width}).contiguous();
  return out;
}

void make_scene(const fs::path& mesh_path, const fs::path& out_dir, const MakeSceneOptions& o) {
  check_options(o);
  const Mesh mesh = load_mesh(mesh_path.string());  // errors name the file
  const SceneCameras cams = make_scene_cameras(mesh.vertices, o);
  const RayCaster caster(mesh);
  fs::create_directories(out_dir / "image");
  fs::create_directories(out_dir / "mask");
  at::Tensor scale = at::eye(4, at::kDouble);
  for (int i = 0; i < 3; ++i) {
    scale[i][i] = cams.sphere;
    scale[i][3] = cams.centre[i];
  }
  const at::Tensor scale_inv = at::inverse(scale);
  std::map<std::string, at::Tensor> npz;
  for (int i = 0; i < o.views; ++i) {
    const RenderedView rv = render_scene_view(caster, mesh, cams.K[i], cams.w2c[i], o.width,
                                              o.height, cams.centre, cams.radius);
    char name[32];
    std::snprintf(name, sizeof name, "%06d.png", i);
    write_png(out_dir / "image" / name, rv.image);
    std::snprintf(name, sizeof name, "%03d.png", i);
    write_png(out_dir / "mask" / name, rv.mask.unsqueeze(2).expand({o.height, o.width, 3}).contiguous());
    at::Tensor K4 = at::eye(4, at::kDouble), Rt = at::eye(4, at::kDouble);
    K4.slice(0, 0, 3).slice(1, 0, 3).copy_(cams.K[i]);
    Rt.slice(0, 0, 3).copy_(cams.w2c[i]);
    const at::Tensor world = at::matmul(K4, Rt);
    const std::string k = std::to_string(i);
    npz["world_mat_" + k] = world;
    npz["world_mat_inv_" + k] = at::inverse(world);
    npz["scale_mat_" + k] = scale;
    npz["scale_mat_inv_" + k] = scale_inv;
    npz["camera_mat_" + k] = K4;
    npz["camera_mat_inv_" + k] = at::inverse(K4);
  }
  save_npz(out_dir / "cameras_sphere.npz", npz);
  std::string ext = mesh_path.extension().string();
  for (auto& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  write_file_atomic(out_dir / ("gt_mesh" + ext), read_file_bytes(mesh_path));
  nlohmann::json j;
  j["made_by"] = "normfield make-scene";
  j["mesh"] = mesh_path.string();
  j["gt_mesh"] = "gt_mesh" + ext;
  j["views"] = o.views;
  j["width"] = o.width;
  j["height"] = o.height;
  j["fov_y_deg"] = o.fov_y_deg;
  j["margin"] = o.margin;
  j["bounding_sphere"] = {{"centre", {cams.centre[0].item<double>(), cams.centre[1].item<double>(), cams.centre[2].item<double>()}},
                          {"radius", cams.radius}};
  j["unit_sphere_radius_world"] = cams.sphere;
  j["K"] = {{cams.K[0][0][0].item<double>(), 0.0, cams.K[0][0][2].item<double>()},
            {0.0, cams.K[0][1][1].item<double>(), cams.K[0][1][2].item<double>()},
            {0.0, 0.0, 1.0}};
  j["light_dir"] = {kLight[0], kLight[1], kLight[2]};
  j["shading"] = "albedo * (0.35 + 0.65 max(0, n.l)), procedural albedo in object space, black background";
  write_file_atomic(out_dir / "scene.json", j.dump(2) + "\n");
}

}  // namespace nf
