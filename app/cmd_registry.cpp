#include <exception>
#include <iostream>
#include <map>
#include <new>

#include "app/cli_main.h"
#include "app/commands.h"

namespace nf::app {

std::vector<CommandRegistrar>& command_registry() {
  static std::vector<CommandRegistrar> r;
  return r;
}

static std::map<CLI::App*, std::function<int()>>& actions() {
  static std::map<CLI::App*, std::function<int()>> a;
  return a;
}

void set_action(CLI::App* sub, std::function<int()> action) { actions()[sub] = std::move(action); }

static std::map<CLI::App*, std::vector<std::function<void()>>>& help_hooks() {
  static std::map<CLI::App*, std::vector<std::function<void()>>> h;
  return h;
}

void set_help_hook(CLI::App* sub, std::function<void()> hook) { help_hooks()[sub].push_back(std::move(hook)); }

void forget_actions(CLI::App&) {
  actions().clear();
  help_hooks().clear();
}

int exit_parse_error(CLI::App& app, const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::CallForHelp*>(&e) || dynamic_cast<const CLI::CallForAllHelp*>(&e)) {
    for (auto& [sub, hooks] : help_hooks()) {
      if (!sub->parsed()) continue;
      for (auto& h : hooks) {
        try {
          h();
        } catch (const std::exception&) {
        }
      }
    }
  }
  return app.exit(e);
}

int run_selected(CLI::App& app) {
  for (auto* sub : app.get_subcommands()) {
    auto it = actions().find(sub);
    if (it == actions().end()) continue;
    try {
      return it->second();
    } catch (const std::bad_alloc&) {
      std::cerr << "normfield: error: " << sub->get_name()
                << ": out of memory (an allocation failed; use smaller sizes, --batch or --arch)\n";
      return 1;
    } catch (const std::exception& e) {
      std::string msg = e.what();
      // c10::Error appends a C++ backtrace after the first line: keep the message only.
      auto nl = msg.find('\n');
      if (nl != std::string::npos) msg = msg.substr(0, nl);
      std::cerr << "normfield: error: " << msg << "\n";
      return 1;
    }
  }
  std::cerr << "normfield: no subcommand given (see --help)\n";
  return 1;
}

}  // namespace nf::app
