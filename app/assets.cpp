#include "app/assets.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace nf::app {

std::filesystem::path assets_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("NORMFIELD_ASSETS"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto p : {exe.parent_path().parent_path() / "assets", exe.parent_path().parent_path().parent_path() / "assets"})
      if (fs::exists(p / "configs")) return p;
  }
  return fs::current_path() / "assets";
}

std::filesystem::path asset(const std::string& rel) {
  auto p = assets_dir() / rel;
  if (!std::filesystem::exists(p))
    throw std::runtime_error(p.string() + ": asset not found (set NORMFIELD_ASSETS to the repository's assets/)");
  return p;
}

std::filesystem::path data_dir() {
  const char* env = std::getenv("NORMFIELD_DATA");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path("../shared/data");
}

}  // namespace nf::app
