// normfield: command-line entry point. Each subcommand lives in app/cmd_<name>.cpp and registers
// itself through app/commands.h.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.h"
#include "normfield/version.h"
#include "tasks/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"normfield " NORMFIELD_VERSION
               " - coordinate networks with normalization layers (BN, LN, GN, CN)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("normfield ") + NORMFIELD_VERSION + " (" + nf::git_revision() + ")");
  for (auto& reg : nf::app::command_registry()) reg(app);
  // Parse errors (unknown flag, bad value refused by a validator) as one line, exit code 1.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("normfield: error: ") + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return nf::app::exit_parse_error(app, e) == 0 ? 0 : 1;
  }
  return nf::app::run_selected(app);
}
