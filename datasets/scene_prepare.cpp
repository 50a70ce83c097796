#include "datasets/scene_prepare.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "datasets/npz.h"

namespace nf {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

void check_args(const fs::path& in_dir, const fs::path& out_dir, int downscale) {
  if (downscale < 1) fail("--downscale must be >= 1, got " + std::to_string(downscale));
  std::error_code ec;
  if (fs::exists(out_dir) && fs::equivalent(in_dir, out_dir, ec)) fail(out_dir.string() + ": --out must differ from --in");
}

void check_divisible(const fs::path& file, int64_t W, int64_t H, int downscale) {
  if (H % downscale != 0 || W % downscale != 0)
    fail(file.string() + ": size " + std::to_string(W) + "x" + std::to_string(H) + " is not divisible by --downscale " +
         std::to_string(downscale));
}

// Box-downscales every image of files into out_folder as <stem>.png, alpha dropped (load_dtu ignores
// it) and the other channels plainly averaged. Returns the count; sets the sizes of the first image.
int64_t downscale_folder(const std::vector<fs::path>& files, const fs::path& out_folder, int d, PrepareReport* rep) {
  for (const fs::path& f : files) {
    const Image img = load_image(f);  // throws naming the file
    const int64_t H = img.pixels.size(0), W = img.pixels.size(1), C = img.pixels.size(2);
    check_divisible(f, W, H, d);
    const at::Tensor px = (C == 2 || C == 4) ? img.pixels.narrow(2, 0, C - 1).contiguous() : img.pixels;
    write_png(out_folder / f.filename().replace_extension(".png"), box_downscale(px, d));
    if (rep->in_w == 0) rep->in_w = W, rep->in_h = H, rep->out_w = W / d, rep->out_h = H / d;
  }
  return int64_t(files.size());
}

// npz[key] as a float64 3x4 / 4x4 matrix, or throws naming the file and key.
at::Tensor npz_matrix(const std::map<std::string, at::Tensor>& npz, const std::string& key, const fs::path& file) {
  const at::Tensor& t = npz_member(npz, key, file);
  if (t.dim() != 2 || (t.size(0) != 3 && t.size(0) != 4) || t.size(1) != 4 || !t.is_floating_point())
    fail(file.string() + ": key '" + key + "' must be a 4x4 (or 3x4) float matrix");
  return t.to(at::kDouble);
}

}  // namespace

PrepareReport prepare_blender_scene(const fs::path& in_dir, const fs::path& out_dir, int downscale) {
  check_args(in_dir, out_dir, downscale);
  PrepareReport rep;
  rep.kind = "blender";
  int splits = 0;
  for (const char* split : {"train", "val", "test"}) {
    const fs::path tf = in_dir / (std::string("transforms_") + split + ".json");
    if (!fs::is_regular_file(tf)) continue;
    ++splits;
    nlohmann::json j;
    try {
      std::ifstream in(tf);
      j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw std::runtime_error(tf.string() + ": malformed JSON");
    }
    if (!j.contains("frames") || !j["frames"].is_array())
      throw std::runtime_error(tf.string() + ": missing key 'frames'");
    for (size_t i = 0; i < j["frames"].size(); ++i) {
      const auto& f = j["frames"][i];
      if (!f.is_object() || !f.contains("file_path") || !f["file_path"].is_string())
        throw std::runtime_error(tf.string() + ": frame " + std::to_string(i) + ": missing key 'file_path'");
      std::string rel = f["file_path"].get<std::string>();
      if (fs::path(rel).extension().empty()) rel += ".png";
      const fs::path src = (in_dir / rel).lexically_normal();
      const Image img = load_image(src);  // throws naming the file
      const int64_t H = img.pixels.size(0), W = img.pixels.size(1);
      check_divisible(src, W, H, downscale);
      write_png((out_dir / rel).lexically_normal(), box_downscale(img.pixels, downscale));
      rep.in_w = W, rep.in_h = H, rep.out_w = W / downscale, rep.out_h = H / downscale;
      ++rep.images;
    }
    fs::create_directories(out_dir);
    fs::copy_file(tf, out_dir / tf.filename(), fs::copy_options::overwrite_existing);
  }
  if (splits == 0)
    throw std::runtime_error(in_dir.string() + ": no transforms_train.json, transforms_val.json or transforms_test.json");
  return rep;
}

PrepareReport prepare_dtu_scene(const fs::path& in_dir, const fs::path& out_dir, int downscale) {
  check_args(in_dir, out_dir, downscale);
  const DtuFiles files = dtu_files(in_dir);  // checked as load_dtu checks them
  const fs::path &npz_path = files.npz, &img_dir = files.image_dir;
  const std::vector<fs::path>&images = files.images, &masks = files.masks;
  const int64_t n = int64_t(images.size());

  // Cameras first (cheap checks before any image is decoded).
  std::map<std::string, at::Tensor> npz = load_npz(npz_path);
  int64_t n_cams = 0;
  for (const auto& kv : npz)
    if (kv.first.rfind("world_mat_", 0) == 0 && kv.first.rfind("world_mat_inv_", 0) != 0) ++n_cams;
  if (n_cams != n)
    fail(npz_path.string() + ": " + std::to_string(n_cams) + " cameras (world_mat_*) for " + std::to_string(n) +
         " images in " + img_dir.string());
  const double d = downscale;
  at::Tensor S = at::eye(4, at::kDouble), D = at::eye(4, at::kDouble);  // pixel-centre map; plain scale
  for (int r = 0; r < 2; ++r) {
    S[r][r] = 1.0 / d;
    S[r][2] = -(d - 1) / (2.0 * d);
    D[r][r] = 1.0 / d;
  }
  const at::Tensor S_inv = at::inverse(S), D_inv = at::inverse(D);
  // out = L[:rows, :rows] @ M @ R, in M's dtype.
  auto rewrite = [&](const std::string& key, const at::Tensor& L, const at::Tensor& R) {
    if (!npz.count(key)) return;
    const at::Tensor M = npz_matrix(npz, key, npz_path);
    const int64_t rows = M.size(0);
    npz[key] = at::matmul(at::matmul(L.slice(0, 0, rows).slice(1, 0, rows), M), R).to(npz[key].scalar_type());
  };
  const at::Tensor I = at::eye(4, at::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    const std::string idx = std::to_string(i);
    npz_matrix(npz, "world_mat_" + idx, npz_path);  // throws "missing key 'world_mat_<i>'"
    rewrite("world_mat_" + idx, S, I);
    rewrite("world_mat_inv_" + idx, I, S_inv);
    rewrite("camera_mat_" + idx, I, D_inv);
    rewrite("camera_mat_inv_" + idx, D, I);
  }

  PrepareReport rep;
  rep.kind = "dtu";
  rep.images = downscale_folder(images, out_dir / "image", downscale, &rep);
  if (!masks.empty()) rep.masks = downscale_folder(masks, out_dir / "mask", downscale, &rep);
  save_npz(out_dir / "cameras_sphere.npz", npz);  // atomic
  return rep;
}

}  // namespace nf
