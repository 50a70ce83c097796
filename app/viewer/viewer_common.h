#pragma once
// Small things the viewer's UI files share.
#include <imgui.h>

#include <cstdint>
#include <string>

#include "app/viewer/gl_util.h"

namespace nf::viewer {

inline const ImU32 kRunColors[2] = {IM_COL32(90, 170, 255, 255), IM_COL32(255, 150, 60, 255)};
inline const char* const kRunNames[2] = {"A", "B"};
inline const char* const kMaps[3] = {"heat", "inferno", "gray"};

inline ImTextureID tex_id(const Texture& t) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.id())); }

inline std::string file_tag(std::string s) {
  for (auto& c : s)
    if (c == ' ' || c == '/' || c == '\\' || c == ':') c = '_';
  return s;
}

}  // namespace nf::viewer
