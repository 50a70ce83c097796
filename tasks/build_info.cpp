// Build facts (see build_info.h). The only file that includes the per-build git_rev.h.
#include "tasks/build_info.h"

#include "normfield/git_rev.h"
#include "normfield/version.h"

namespace nf {

std::string normfield_version() { return NORMFIELD_VERSION; }
std::string git_revision() { return NORMFIELD_GIT_REV; }

}  // namespace nf
