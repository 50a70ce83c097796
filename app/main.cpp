// normfield: command-line entry point. Each subcommand lives in app/cmd_<name>.cpp and registers
// itself through app/commands.h; app/cli_main.cpp parses and runs the selected one.
#include <cstdlib>

#include "app/cli_main.h"

int main(int argc, char** argv) {
  // Tests: many command lines in one process (see cli_batch).
  if (const char* batch = std::getenv("NORMFIELD_CLI_BATCH"); batch && *batch && argc == 1)
    return nf::app::cli_batch(batch);
  return nf::app::cli_main(argc, argv);
}
