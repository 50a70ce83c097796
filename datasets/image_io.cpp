// Image I/O through stb (Debian's compiled libstb: no *_IMPLEMENTATION macro here).
#include "datasets/image_io.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "fields/file_io.h"
#include "datasets/printable.h"

namespace nf {
namespace fs = std::filesystem;

namespace {


std::runtime_error file_error(const fs::path& path, const std::string& what) {
  return std::runtime_error(path.string() + ": " + what);
}

std::string shape_str(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// [H, W] -> [H, W, 1]; checks [H, W, C].
at::Tensor as_hwc(const at::Tensor& t, const char* who) {
  if (t.dim() == 2) return t.unsqueeze(2);
  if (t.dim() != 3) throw std::runtime_error(std::string(who) + ": expected [H, W, C] or [H, W], got " + shape_str(t));
  return t;
}

}  // namespace

Image load_image(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw file_error(path, "no such file");
  if (fs::is_directory(path, ec)) throw file_error(path, "is a directory, not an image file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, "cannot open for reading");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw file_error(path, "empty file (zero size)");
  const auto* buf = bytes.data();
  const int len = static_cast<int>(bytes.size());

  int w = 0, h = 0, c = 0;
  const bool is16 = stbi_is_16_bit_from_memory(buf, len) != 0;
  void* data = is16 ? static_cast<void*>(stbi_load_16_from_memory(buf, len, &w, &h, &c, 0))
                    : static_cast<void*>(stbi_load_from_memory(buf, len, &w, &h, &c, 0));
  if (!data) {
    const char* why = stbi_failure_reason();
    throw file_error(path, std::string("not a PNG/JPEG image or corrupt (") + (why ? printable(why) : std::string("unknown")) + ")");
  }
  std::unique_ptr<void, void (*)(void*)> guard(data, stbi_image_free);
  if (w <= 0 || h <= 0 || c <= 0) throw file_error(path, "image has zero size");

  Image img;
  img.bit_depth = is16 ? 16 : 8;
  img.channels = c;
  img.path = path.string();
  const auto dtype = is16 ? at::kShort : at::kByte;  // uint16 has no ATen dtype in 1.13: reinterpret
  at::Tensor raw = at::from_blob(data, {h, w, c}, at::TensorOptions().dtype(dtype)).clone();
  if (is16) {
    // int16 bit pattern -> uint16 value: add 65536 to negatives.
    at::Tensor v = raw.to(at::kInt);
    v = at::where(v < 0, v + 65536, v);
    img.pixels = v.to(at::kFloat).div_(65535.0f);  // [H, W, C]
  } else {
    img.pixels = raw.to(at::kFloat).div_(255.0f);  // [H, W, C]
  }
  return img;
}

at::Tensor to_rgb(const at::Tensor& hwc_in, bool composite_white) {
  at::Tensor x = as_hwc(hwc_in, "to_rgb").to(at::kFloat);  // [H, W, C]
  const int64_t c = x.size(2);
  at::Tensor color, alpha;
  switch (c) {
    case 1: color = x.expand({x.size(0), x.size(1), 3}); break;
    case 2: color = x.narrow(2, 0, 1).expand({x.size(0), x.size(1), 3}); alpha = x.narrow(2, 1, 1); break;
    case 3: color = x; break;
    case 4: color = x.narrow(2, 0, 3); alpha = x.narrow(2, 3, 1); break;
    default: throw std::runtime_error("to_rgb: expected 1-4 channels, got " + shape_str(hwc_in));
  }
  if (alpha.defined() && composite_white) return color * alpha + (1 - alpha);  // [H, W, 3]
  return color.contiguous();                                                 // [H, W, 3]
}

void write_png(const fs::path& path, const at::Tensor& hwc_in) {
  at::Tensor x = as_hwc(hwc_in, "write_png");
  const int64_t h = x.size(0), w = x.size(1), c = x.size(2);
  if (c != 1 && c != 3 && c != 4) throw file_error(path, "write_png: expected 1, 3 or 4 channels, got " + shape_str(hwc_in));
  if (h <= 0 || w <= 0) throw file_error(path, "write_png: image has zero size " + shape_str(hwc_in));
  at::Tensor q = x.detach().to(at::kCPU, at::kFloat).clamp(0, 1).mul(255).round().to(at::kByte).contiguous();

  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw file_error(path, "cannot create parent folder (" + ec.message() + ")");
  }
  std::vector<unsigned char> png;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<unsigned char>*>(ctx);
    v->insert(v->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
  };
  if (!stbi_write_png_to_func(sink, &png, static_cast<int>(w), static_cast<int>(h), static_cast<int>(c),
                              q.data_ptr<uint8_t>(), static_cast<int>(w * c)))
    throw file_error(path, "PNG encoding failed");

  write_file_atomic(path, std::string(png.begin(), png.end()));
}

at::Tensor side_by_side(const std::vector<at::Tensor>& images, int gap) {
  if (images.empty()) throw std::runtime_error("side_by_side: no images");
  const int64_t h = as_hwc(images[0], "side_by_side").size(0);
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < images.size(); ++i) {
    at::Tensor rgb = to_rgb(images[i].detach().to(at::kCPU));  // [H, W_i, 3]
    if (rgb.size(0) != h)
      throw std::runtime_error("side_by_side: image " + std::to_string(i) + " has height " +
                               std::to_string(rgb.size(0)) + ", expected " + std::to_string(h));
    if (i > 0 && gap > 0) parts.push_back(at::ones({h, gap, 3}, at::kFloat));  // white gap
    parts.push_back(rgb);
  }
  return at::cat(parts, 1);  // [H, sum W_i + gaps, 3]
}

at::Tensor error_map(const at::Tensor& pred, const at::Tensor& target, double max_err) {
  if (!pred.sizes().equals(target.sizes()))
    throw std::runtime_error("error_map: shape mismatch " + shape_str(pred) + " vs " + shape_str(target));
  if (!(max_err > 0)) throw std::runtime_error("error_map: max_err must be > 0");
  at::Tensor p = as_hwc(pred, "error_map").detach().to(at::kCPU, at::kFloat);
  at::Tensor t = as_hwc(target, "error_map").detach().to(at::kCPU, at::kFloat);
  at::Tensor e = (p - t).abs().mean(2).div(max_err).clamp(0, 1);  // [H, W]
  // "hot" ramp: red rises over [0, 1/3], green over [1/3, 2/3], blue over [2/3, 1].
  at::Tensor r = (e * 3).clamp(0, 1);
  at::Tensor g = (e * 3 - 1).clamp(0, 1);
  at::Tensor b = (e * 3 - 2).clamp(0, 1);
  return at::stack({r, g, b}, 2);  // [H, W, 3]
}

}  // namespace nf
