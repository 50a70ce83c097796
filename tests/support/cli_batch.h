#pragma once
// Many normfield command lines in ONE process (NORMFIELD_CLI_BATCH, app/cli_main.h): the same
// parsing, checks and one-line errors as separate runs, without ~1.5 s of library loading per case.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/cli.h"

namespace nf_test {

// One CliRun per command line (arguments separated by spaces, no quoting), in order. A command
// that kills the process leaves the remaining runs with code -1 and the output so far.
inline std::vector<CliRun> run_cli_batch(const std::vector<std::string>& lines) {
  const auto list = scratch("cli_batch") / "commands.txt";
  {
    std::ofstream out(list);
    for (const auto& l : lines) out << l << "\n";
  }
  CliRun all{0, ""};
  FILE* p = popen(("NORMFIELD_CLI_BATCH=" + list.string() + " " + normfield_exe().string() + " 2>&1").c_str(), "r");
  if (!p) return std::vector<CliRun>(lines.size(), CliRun{-1, "popen failed"});
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) all.output += buf.data();
  const int status = pclose(p);
  all.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::vector<CliRun> runs;
  size_t pos = 0;
  while (runs.size() < lines.size()) {
    const size_t mark = all.output.find('\x1e', pos);
    if (mark == std::string::npos) {
      runs.push_back({-1, all.output.substr(pos) + "\n(the batch process ended: exit code " +
                              std::to_string(all.code) + ")"});
      pos = all.output.size();
      continue;
    }
    const size_t eol = all.output.find('\n', mark);
    runs.push_back({std::stoi(all.output.substr(mark + 1, eol - mark - 1)), all.output.substr(pos, mark - pos)});
    pos = eol == std::string::npos ? all.output.size() : eol + 1;
  }
  return runs;
}

}  // namespace nf_test
