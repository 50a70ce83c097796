#include "datasets/scene_prepare.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

#include "datasets/image_io.h"
#include "datasets/image_resize.h"

namespace nf {
namespace fs = std::filesystem;

PrepareReport prepare_blender_scene(const fs::path& in_dir, const fs::path& out_dir, int downscale) {
  if (downscale < 1) throw std::runtime_error("--downscale must be >= 1, got " + std::to_string(downscale));
  std::error_code ec;
  if (fs::exists(out_dir) && fs::equivalent(in_dir, out_dir, ec))
    throw std::runtime_error(out_dir.string() + ": --out must differ from --in");
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
      if (H % downscale != 0 || W % downscale != 0)
        throw std::runtime_error(src.string() + ": size " + std::to_string(W) + "x" + std::to_string(H) +
                                 " is not divisible by --downscale " + std::to_string(downscale));
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

}  // namespace nf
