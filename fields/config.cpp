#include "fields/config.h"

#include <fstream>
#include <set>
#include <sstream>

namespace nf {

nlohmann::json parse_json(const std::string& text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for "1e99999"
    std::string what = e.what();
    auto pos = what.find("] ");  // drop "[json.exception.parse_error.101] "
    if (pos != std::string::npos) what = what.substr(pos + 2);
    // nlohmann quotes the bytes it last read: never echo raw file bytes (binary junk, newlines).
    auto lr = what.find("; last read: ");
    if (lr != std::string::npos) what = what.substr(0, lr);
    for (char& c : what)
      if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    throw ConfigError(origin + ": malformed JSON: " + what);
  }
}

static nlohmann::json load_rec(const std::filesystem::path& path, std::set<std::string>& seen) {
  auto canon = std::filesystem::weakly_canonical(path).string();
  if (!seen.insert(canon).second) throw ConfigError(path.string() + ": 'parent' chain has a cycle");
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = parse_json(ss.str(), path.string());
  if (!j.is_object()) throw ConfigError(path.string() + ": config must be a JSON object");
  if (j.contains("parent")) {
    if (!j["parent"].is_string()) throw ConfigError(path.string() + ": key 'parent' must be a path string");
    auto parent_path = path.parent_path() / j["parent"].get<std::string>();
    auto base = load_rec(parent_path, seen);
    j.erase("parent");
    base.merge_patch(j);
    return base;
  }
  return j;
}

nlohmann::json load_config_file(const std::filesystem::path& path) {
  std::set<std::string> seen;
  return load_rec(path, seen);
}

}  // namespace nf
