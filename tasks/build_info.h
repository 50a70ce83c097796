#pragma once
// What build produced a result: the library version and the commit of the source tree.
#include <string>

namespace nf {

// "0.1.0".
std::string normfield_version();
// Short commit of the source tree at build time, "+dirty" when tracked files were modified, "unknown"
// outside a git checkout. Regenerated at every build (cmake/git_rev.cmake).
std::string git_revision();

}  // namespace nf
