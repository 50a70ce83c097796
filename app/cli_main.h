#pragma once
// The normfield command line as a function (app/main.cpp calls it).
#include <CLI/CLI.hpp>

#include <string>

namespace nf::app {

// Registers every command (app/commands.h), parses argv, runs the selected command and returns
// the exit code (0, or 1 after one "normfield: error: ..." line).
int cli_main(int argc, char** argv);

// For tests (NORMFIELD_CLI_BATCH=<file> normfield): runs each line of `file` (arguments separated
// by spaces, no quoting) as one normfield command line in this process, writing its output and
// then "\x1e<exit code>\n" to stdout. Many bad-input cases then cost one process start (~1.5 s of
// library loading) instead of one each. Returns 0, or 1 when the file cannot be read.
int cli_batch(const std::string& file);

// Drops the actions and help hooks set for an App that is about to go away (app/cmd_registry.cpp).
void forget_actions(CLI::App& app);

}  // namespace nf::app
