#include "app/task_setup.h"

#include <stdexcept>
#include <utility>

#include "app/assets.h"
#include "app/commands.h"
#include "tasks/task_registry.h"

namespace nf::app {
namespace fs = std::filesystem;

fs::path resolve_task_config(const std::string& name, const std::string& folder) {
  if (fs::is_regular_file(name)) return name;
  const std::string file = fs::path(name).extension() == ".json" ? name : name + ".json";
  const fs::path dirs[] = {assets_dir() / "configs" / folder, fs::path("assets/configs") / folder};
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / file)) return d / file;
  std::string avail;
  if (fs::is_directory(dirs[0]))
    for (const auto& e : fs::directory_iterator(dirs[0]))
      if (e.path().extension() == ".json") avail += (avail.empty() ? "" : ", ") + e.path().stem().string();
  throw std::runtime_error("--config " + name + ": no such file or config in assets/configs/" + folder +
                           " (available: " + avail + ")");
}

void require_scene(const std::string& scene) {
  if (!fs::is_directory(scene)) throw std::runtime_error("--scene " + scene + ": no such scene folder");
}

OverrideTag& OverrideTag::add(bool set, const char* key, const std::string& value) {
  if (set) tag_ += (tag_.empty() ? "" : ",") + std::string(key) + "=" + value;
  return *this;
}

void add_task_train_flags(CLI::App* sub, TrainFlags& flags, const std::string& task, const std::string& config_folder,
                          const std::string& out, const TaskTrainHelp& help) {
  flags.set_task(task);
  flags.config_path = task_protocol(task)["config"];
  flags.out = out;
  flags.add_to(sub, [config_folder](const std::string& c) { return resolve_task_config(c, config_folder).string(); });
  sub->get_option("--method")->group("");
  sub->get_option("--arch")->group("");
  sub->get_option("--config")->description(help.config)->capture_default_str();
  sub->get_option("--lr")->description(help.lr);
}

void set_subcommand_actions(CLI::App* parent, std::shared_ptr<const SubcommandActions> actions,
                            const std::string& none_given) {
  set_action(parent, [parent, actions = std::move(actions), none_given]() {
    for (auto* s : parent->get_subcommands()) {
      auto it = actions->find(s);
      if (it != actions->end()) return it->second();
    }
    throw std::runtime_error(none_given);
  });
}

}  // namespace nf::app
