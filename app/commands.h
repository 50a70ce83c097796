#pragma once
// Subcommand registration: each app/cmd_<name>.cpp defines a static nf::app::Command that adds its
// CLI11 subcommand and a callback. main() parses and runs the selected one, turning exceptions into
// a one-line "normfield: error: ..." and exit code 1.
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace nf::app {

using CommandRegistrar = std::function<void(CLI::App&)>;
std::vector<CommandRegistrar>& command_registry();

struct Command {
  explicit Command(CommandRegistrar r) { command_registry().push_back(std::move(r)); }
};

// Set by a subcommand's registrar: what to run when it is selected.
void set_action(CLI::App* sub, std::function<int()> action);
int run_selected(CLI::App& app);
// Called on --help for a parsed subcommand before the help is printed (e.g. to show a config's
// values as the defaults). Errors in a hook are ignored: help still prints.
void set_help_hook(CLI::App* sub, std::function<void()> hook);
// app.exit(e), running the help hooks first when e asks for help.
int exit_parse_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace nf::app
