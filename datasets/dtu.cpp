// DTU (NeuS layout) scene loader (see dtu.h).
#include "datasets/dtu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "datasets/image_io.h"
#include "datasets/npz.h"

namespace nf {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

// Area average of d x d blocks. x: [H, W, C] -> [H/d, W/d, C]
at::Tensor area_downscale(const at::Tensor& x, int d) {
  if (d == 1) return x;
  const int64_t h = x.size(0), w = x.size(1), c = x.size(2);
  return x.reshape({h / d, d, w / d, d, c}).mean({1, 3});
}

struct Decoded {
  at::Tensor px;  // [H, W, C] float32 after downscale
  int w = 0, h = 0;
  std::string error;
};

Decoded decode(const fs::path& path, int view, int d, bool mask) {
  Decoded r;
  try {
    const Image im = load_image(path);
    r.h = int(im.pixels.size(0));
    r.w = int(im.pixels.size(1));
    if (r.w % d != 0 || r.h % d != 0) {
      r.error = path.string() + ": downscale " + std::to_string(d) + " does not divide the image size " +
                std::to_string(r.w) + "x" + std::to_string(r.h) + " (view " + std::to_string(view) + ")";
      return r;
    }
    at::Tensor px = mask ? im.pixels.slice(2, 0, 1) : to_rgb(im.pixels, /*composite_white=*/false);
    r.px = area_downscale(px.to(at::kFloat), d).contiguous();
  } catch (const std::exception& e) {
    r.error = std::string(e.what()) + " (view " + std::to_string(view) + ")";
  }
  return r;
}

// Decodes files[k] for k in views, in parallel; throws the first error in view order, or a size
// mismatch against the first file. -> [F, H, W, C]
at::Tensor decode_all(const std::vector<fs::path>& files, const std::vector<int>& views, int d, bool mask,
                      int* H, int* W) {
  std::vector<Decoded> dec(views.size());
  at::parallel_for(0, int64_t(views.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) dec[k] = decode(files[views[k]], views[k], d, mask);
  });
  std::vector<at::Tensor> px;
  for (size_t k = 0; k < dec.size(); ++k) {
    if (!dec[k].error.empty()) fail(dec[k].error);
    if (dec[k].w != dec[0].w || dec[k].h != dec[0].h)
      fail(files[views[k]].string() + ": size " + std::to_string(dec[k].w) + "x" + std::to_string(dec[k].h) +
           " differs from " + files[views[0]].string() + " (" + std::to_string(dec[0].w) + "x" +
           std::to_string(dec[0].h) + ")");
    px.push_back(std::move(dec[k].px));
  }
  *H = dec[0].h;
  *W = dec[0].w;
  return at::stack(px, 0);
}

// A 4x4 float64 matrix from the npz, checked for shape and finiteness.
at::Tensor matrix4(const std::map<std::string, at::Tensor>& npz, const std::string& key, const fs::path& file) {
  const at::Tensor& t = npz_member(npz, key, file);
  if (!(t.dim() == 2 && t.size(0) == 4 && t.size(1) == 4) && !(t.dim() == 2 && t.size(0) == 3 && t.size(1) == 4))
    fail(file.string() + ": key '" + key + "' must be a 4x4 (or 3x4) matrix");
  if (!t.is_floating_point()) fail(file.string() + ": key '" + key + "' must hold floats");
  at::Tensor m = t.to(at::kDouble);
  if (!at::isfinite(m).all().item<bool>()) fail(file.string() + ": key '" + key + "' has non-finite entries");
  if (m.size(0) == 3) m = at::cat({m, at::tensor({0.0, 0.0, 0.0, 1.0}, at::kDouble).view({1, 4})}, 0);
  return m;
}

// Sorted *.png / *.jpg / *.jpeg files of a folder.
std::vector<fs::path> list_images(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ProjectionDecomposition decompose_projection(const at::Tensor& P_in, const std::string& what) {
  if (P_in.dim() != 2 || P_in.size(0) < 3 || P_in.size(1) != 4)
    fail(what + ": projection must be 3x4 or 4x4");
  const at::Tensor Pt = P_in.slice(0, 0, 3).to(at::kCPU, at::kDouble).contiguous();
  double P[3][4];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      P[i][j] = Pt[i][j].item<double>();
      if (!std::isfinite(P[i][j])) fail(what + ": projection has non-finite entries");
    }
  auto det3 = [&]() {
    return P[0][0] * (P[1][1] * P[2][2] - P[1][2] * P[2][1]) - P[0][1] * (P[1][0] * P[2][2] - P[1][2] * P[2][0]) +
           P[0][2] * (P[1][0] * P[2][1] - P[1][1] * P[2][0]);
  };
  double scale = 0;
  for (auto& row : P)
    for (double v : row) scale = std::max(scale, std::abs(v));
  const double det = det3();
  if (!(scale > 0) || !(std::abs(det) > 1e-12 * scale * scale * scale)) fail(what + ": projection is singular");
  if (det < 0)
    for (auto& row : P)
      for (double& v : row) v = -v;
  // RQ by Gram-Schmidt from the last row: M = K R, rows r2 = m2 / |m2|, r1 ⟂ r2, r0 ⟂ r1, r2.
  double K[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, R[3][3];
  for (int i = 2; i >= 0; --i) {
    double v[3] = {P[i][0], P[i][1], P[i][2]};
    for (int j = i + 1; j < 3; ++j) {
      K[i][j] = v[0] * R[j][0] + v[1] * R[j][1] + v[2] * R[j][2];
      for (int c = 0; c < 3; ++c) v[c] -= K[i][j] * R[j][c];
    }
    K[i][i] = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (!(K[i][i] > 0)) fail(what + ": projection is singular");
    for (int c = 0; c < 3; ++c) R[i][c] = v[c] / K[i][i];
  }
  // Centre: M c + p4 = 0, c = -R^T K^{-1} p4 (back-substitution with upper-triangular K).
  double y[3];
  for (int i = 2; i >= 0; --i) {
    double s = P[i][3];
    for (int j = i + 1; j < 3; ++j) s -= K[i][j] * y[j];
    y[i] = s / K[i][i];
  }
  const double k22 = K[2][2];
  at::Tensor Kt = at::zeros({3, 3}, at::kDouble), c2w = at::eye(4, at::kDouble);
  auto k = Kt.accessor<double, 2>();
  auto m = c2w.accessor<double, 2>();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      k[i][j] = K[i][j] / k22;
      m[i][j] = R[j][i];  // R^T
    }
    m[i][3] = -(R[0][i] * y[0] + R[1][i] * y[1] + R[2][i] * y[2]);
  }
  // A guard (the singularity test above bounds every ratio below 1e12, so it should not fire; the
  // fuzz harness checks the same): never hand out a camera with inf or NaN in it.
  if (!at::isfinite(Kt).all().item<bool>() || !at::isfinite(c2w).all().item<bool>())
    fail(what + ": projection is degenerate (its intrinsics or pose overflow)");
  return {Kt, c2w};
}

DtuFiles dtu_files(const fs::path& dir) {
  DtuFiles f{dir / "cameras_sphere.npz", dir / "image", dir / "mask", {}, {}};
  if (!fs::is_regular_file(f.npz)) fail(f.npz.string() + ": no such file");
  if (!fs::is_directory(f.image_dir)) fail(f.image_dir.string() + ": no such folder");
  f.images = list_images(f.image_dir);
  if (f.images.empty()) fail(f.image_dir.string() + ": no .png/.jpg images");
  if (fs::is_directory(f.mask_dir)) {
    f.masks = list_images(f.mask_dir);
    if (f.masks.size() != f.images.size())
      fail(f.mask_dir.string() + ": " + std::to_string(f.masks.size()) + " masks for " + std::to_string(f.images.size()) +
           " images in " + f.image_dir.string());
  }
  return f;
}

DtuScene load_dtu(const fs::path& dir, const DtuOptions& o) {
  const std::string ds = dir.string();
  if (o.downscale < 1) fail(ds + ": downscale must be >= 1, got " + std::to_string(o.downscale));
  if (!fs::is_directory(dir)) fail(ds + ": no such scene folder");
  const DtuFiles files = dtu_files(dir);
  const fs::path &npz_path = files.npz, &img_dir = files.image_dir;
  const std::vector<fs::path>&images = files.images, &masks = files.masks;
  const int n = int(images.size());
  const bool has_masks = !masks.empty();  // a mask/ folder (as many masks as images, >= 1)

  const auto npz = load_npz(npz_path);
  int n_cams = 0;
  for (const auto& kv : npz)
    if (kv.first.rfind("world_mat_", 0) == 0 && kv.first.rfind("world_mat_inv_", 0) != 0) ++n_cams;
  for (int i = 0; i < n; ++i) {
    const std::string key = "world_mat_" + std::to_string(i);
    if (!npz.count(key))
      fail(npz_path.string() + ": missing key '" + key + "' (" + std::to_string(n) + " images in " +
           img_dir.string() + ")");
  }
  if (n_cams != n)
    fail(npz_path.string() + ": " + std::to_string(n_cams) + " cameras (world_mat_*) for " + std::to_string(n) +
         " images in " + img_dir.string());

  std::vector<int> views = o.views;
  if (views.empty())
    for (int i = 0; i < n; ++i) views.push_back(i);
  for (int v : views)
    if (v < 0 || v >= n) fail(ds + ": view " + std::to_string(v) + " out of range [0, " + std::to_string(n) + ")");
  if (o.max_frames >= 0 && int(views.size()) > o.max_frames) views.resize(size_t(o.max_frames));
  if (views.empty()) fail(ds + ": no views selected (max_frames = " + std::to_string(o.max_frames) + ")");

  DtuScene s;
  s.views = views;
  s.has_masks = has_masks;
  s.scale_mat = matrix4(npz, "scale_mat_0", npz_path);
  const int d = o.downscale;
  // Downscaling by d maps a full-resolution pixel coordinate u to (u - (d - 1) / 2) / d.
  at::Tensor S = at::eye(3, at::kDouble);
  for (int r = 0; r < 2; ++r) {
    S[r][r] = 1.0 / d;
    S[r][2] = -(d - 1) / (2.0 * d);
  }
  std::vector<at::Tensor> Ks, poses;
  for (int v : views) {
    const std::string wk = "world_mat_" + std::to_string(v), sk = "scale_mat_" + std::to_string(v);
    const at::Tensor P = at::matmul(matrix4(npz, wk, npz_path), matrix4(npz, sk, npz_path));
    const ProjectionDecomposition pd = decompose_projection(P, npz_path.string() + ": " + wk + " @ " + sk);
    Ks.push_back(at::matmul(S, pd.K));
    poses.push_back(pd.c2w);
  }
  s.intrinsics = at::stack(Ks, 0);
  s.c2w = at::stack(poses, 0);

  for (int v : views) s.files.push_back(images[size_t(v)].string());
  int H = 0, W = 0;
  s.images = decode_all(images, views, d, false, &H, &W);  // [F, H, W, 3]
  if (has_masks) {
    int mh = 0, mw = 0;
    s.masks = decode_all(masks, views, d, true, &mh, &mw).squeeze(-1).contiguous();  // [F, H, W]
    if (mh != H || mw != W)
      fail(masks[size_t(views[0])].string() + ": mask size " + std::to_string(mw) + "x" + std::to_string(mh) +
           " differs from the image size " + std::to_string(W) + "x" + std::to_string(H));
  } else {
    s.masks = at::ones({s.images.size(0), s.images.size(1), s.images.size(2)}, at::kFloat);
  }
  s.H = int(s.images.size(1));
  s.W = int(s.images.size(2));
  return s;
}

}  // namespace nf
