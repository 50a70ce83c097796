// The normfield command line as a function, and the batch mode of the tests (see cli_main.h).
#include "app/cli_main.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "normfield/version.h"
#include "tasks/build_info.h"

namespace nf::app {

int cli_main(int argc, char** argv) {
  CLI::App app{"normfield " NORMFIELD_VERSION
               " - coordinate networks with normalization layers (BN, LN, GN, CN)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("normfield ") + NORMFIELD_VERSION + " (" + nf::git_revision() + ")");
  for (auto& reg : command_registry()) reg(app);
  // Parse errors (unknown flag, bad value refused by a validator) as one line, exit code 1.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("normfield: error: ") + e.what() + " (see --help)\n";
  });
  int rc = 0;
  try {
    app.parse(argc, argv);
    rc = run_selected(app);
  } catch (const CLI::ParseError& e) {
    rc = exit_parse_error(app, e) == 0 ? 0 : 1;
  }
  forget_actions(app);
  return rc;
}

int cli_batch(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "normfield: error: NORMFIELD_CLI_BATCH: cannot read " << file << "\n";
    return 1;
  }
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> words{"normfield"};
    std::istringstream ls(line);
    for (std::string w; ls >> w;) words.push_back(w);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    const int rc = cli_main(static_cast<int>(words.size()), argv.data());
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::printf("\x1e%d\n", rc);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace nf::app
