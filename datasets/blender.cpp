// Blender (nerf_synthetic) scene loader (see blender.h).
#include "datasets/blender.h"
#include "datasets/printable.h"

#include <ATen/Parallel.h>
#include <stb/stb_image.h>  // implementation compiled elsewhere (libstb or cmake/stb_impl.cpp)

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace nf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }


const json& require(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(where + ": missing key '" + key + "'");
  return *it;
}

// transform_matrix -> 16 floats (row-major); where = "<file>: frame i".
std::vector<float> read_matrix(const json& m, const std::string& where) {
  auto bad = [&] { fail(where + ": 'transform_matrix' must be a 4x4 array of numbers"); };
  if (!m.is_array() || m.size() != 4) bad();
  std::vector<float> out;
  for (const auto& row : m) {
    if (!row.is_array() || row.size() != 4) bad();
    for (const auto& v : row) {
      if (!v.is_number()) bad();
      out.push_back(v.get<float>());
    }
  }
  return out;
}

}  // namespace

void check_pose(const float* m, size_t n, const std::string& where) {
  for (size_t k = 0; k < n; ++k)
    if (!std::isfinite(m[k])) fail(where + ": 'transform_matrix' has a non-finite entry");
  double worst = 0;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double dot = 0;  // column a . column b of the rotation part
      for (int r = 0; r < 3; ++r) dot += double(m[r * 4 + a]) * double(m[r * 4 + b]);
      worst = std::max(worst, std::abs(dot - (a == b ? 1.0 : 0.0)));
    }
  if (worst > 1e-2)
    fail(where + ": 'transform_matrix' rotation part is not orthonormal (|R^T R - I| = " + std::to_string(worst) +
         " > 0.01)");
}

namespace {

struct Decoded {
  at::Tensor rgb;  // [H, W, 3] float32 composited
  int w = 0, h = 0;
  std::string error;
};

// Decodes an image as RGBA (grey/RGB get alpha 1), composites over bg, downscales by area average.
Decoded decode(const std::string& path, size_t frame, float bg, int d) {
  Decoded r;
  int w = 0, h = 0, c = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &c, 4);
  if (!px) {
    const char* why = stbi_failure_reason();
    r.error = printable(path, 300) + ": cannot decode image (frame " + std::to_string(frame) + "): " +
              printable(why ? why : "unknown");
    return r;
  }
  r.w = w, r.h = h;
  if (w % d != 0 || h % d != 0) {
    stbi_image_free(px);
    r.error = printable(path, 300) + ": downscale " + std::to_string(d) + " does not divide the image size " + std::to_string(w) +
              "x" + std::to_string(h) + " (frame " + std::to_string(frame) + ")";
    return r;
  }
  // Copy out of stb's buffer before anything can throw.
  at::Tensor rgba = at::from_blob(px, {h, w, 4}, at::kByte).to(at::kFloat).div_(255.0f);  // [H, W, 4]
  stbi_image_free(px);
  const at::Tensor a = rgba.slice(2, 3, 4);                               // [H, W, 1]
  at::Tensor rgb = rgba.slice(2, 0, 3) * a + bg * (1.0f - a);              // [H, W, 3]
  if (d > 1)  // composite first, then average d x d blocks
    rgb = rgb.reshape({h / d, d, w / d, d, 3}).mean({1, 3});
  r.rgb = rgb.contiguous();
  return r;
}

}  // namespace

BlenderSplit load_blender(const fs::path& scene_dir, const std::string& split, const BlenderOptions& opt) {
  const fs::path tf = scene_dir / ("transforms_" + split + ".json");
  const std::string tfs = tf.string();
  if (opt.downscale < 1) fail(tfs + ": downscale must be >= 1, got " + std::to_string(opt.downscale));
  if (opt.skip < 1) fail(tfs + ": skip must be >= 1, got " + std::to_string(opt.skip));
  if (!fs::is_regular_file(tf)) fail(tfs + ": no such file");
  json j;
  {
    std::ifstream in(tf);
    if (!in) fail(tfs + ": cannot open");
    try {
      in >> j;
    } catch (const json::exception& e) {
      fail(tfs + ": malformed JSON: " + e.what());
    }
  }
  if (!j.is_object()) fail(tfs + ": expected a JSON object at the top level");
  const json& fov = require(j, "camera_angle_x", tfs);
  if (!fov.is_number() || !(fov.get<double>() > 0) || !(fov.get<double>() < kPi))
    fail(tfs + ": 'camera_angle_x' must be a number in (0, pi)");
  const json& frames = require(j, "frames", tfs);
  if (!frames.is_array() || frames.empty()) fail(tfs + ": 'frames' must be a non-empty array");

  // Frames to load (indices into the json, used in messages).
  std::vector<size_t> idx;
  for (size_t i = 0; i < frames.size(); i += size_t(opt.skip)) {
    if (opt.max_frames >= 0 && idx.size() >= size_t(opt.max_frames)) break;
    idx.push_back(i);
  }
  if (idx.empty()) fail(tfs + ": no frames selected (max_frames = " + std::to_string(opt.max_frames) + ")");

  BlenderSplit out;
  std::vector<float> poses;
  for (size_t i : idx) {
    const std::string where = tfs + ": frame " + std::to_string(i);
    const json& f = frames[i];
    if (!f.is_object()) fail(where + ": expected an object");
    const json& fp = require(f, "file_path", where);
    if (!fp.is_string()) fail(where + ": 'file_path' must be a string");
    const std::vector<float> m = read_matrix(require(f, "transform_matrix", where), where);
    check_pose(m.data(), m.size(), where);
    poses.insert(poses.end(), m.begin(), m.end());
    std::string rel = fp.get<std::string>();
    // "\u0000" would cut the path short at the system call: another file than the one named.
    if (rel.find('\0') != std::string::npos) fail(where + ": 'file_path' contains a NUL character");
    const bool has_png = rel.size() >= 4 && (rel.compare(rel.size() - 4, 4, ".png") == 0 ||
                                             rel.compare(rel.size() - 4, 4, ".PNG") == 0);
    if (!has_png) rel += ".png";
    const std::string path = (scene_dir / rel).lexically_normal().string();
    std::error_code ec;  // the throwing overload fails on a name too long, naming only the image
    if (!fs::is_regular_file(path, ec))
      fail(where + ": image " + printable(path, 300) + ": " + (ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such file"));
    out.files.push_back(path);
  }

  // Decode in parallel; errors are collected and the first (in frame order) is thrown.
  const float bg = opt.white_bkgd ? 1.0f : 0.0f;
  std::vector<Decoded> dec(idx.size());
  at::parallel_for(0, int64_t(idx.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) dec[k] = decode(out.files[k], idx[k], bg, opt.downscale);
  });
  for (size_t k = 0; k < dec.size(); ++k) {
    if (!dec[k].error.empty()) fail(dec[k].error);
    if (dec[k].w != dec[0].w || dec[k].h != dec[0].h)
      fail(out.files[k] + ": size " + std::to_string(dec[k].w) + "x" + std::to_string(dec[k].h) +
           " differs from " + out.files[0] + " (" + std::to_string(dec[0].w) + "x" + std::to_string(dec[0].h) +
           ") (frame " + std::to_string(idx[k]) + ")");
  }
  std::vector<at::Tensor> imgs;
  imgs.reserve(dec.size());
  for (auto& d : dec) imgs.push_back(std::move(d.rgb));
  out.images = at::stack(imgs, 0);  // [F, H, W, 3]
  out.poses = at::tensor(poses, at::kFloat).reshape({int64_t(idx.size()), 4, 4});
  out.H = int(out.images.size(1));
  out.W = int(out.images.size(2));
  // focal of the full-resolution image, scaled with it (exact since d divides W).
  out.focal = 0.5 * dec[0].w / std::tan(0.5 * fov.get<double>()) / opt.downscale;
  return out;
}

}  // namespace nf
