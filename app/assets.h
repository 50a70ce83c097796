#pragma once
// Locating the repository's assets/ (configs, paper tables) from an installed or build-tree binary:
// $NORMFIELD_ASSETS, else <exe>/../assets, <exe>/../../assets, ./assets.
#include <filesystem>
#include <string>

namespace nf::app {

std::filesystem::path assets_dir();
// assets_dir()/rel; throws naming the path when it does not exist.
std::filesystem::path asset(const std::string& rel);
// The shared data folder: $NORMFIELD_DATA, else ../shared/data (as the tests).
std::filesystem::path data_dir();

}  // namespace nf::app
