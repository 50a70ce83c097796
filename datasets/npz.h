#pragma once
// NumPy .npz archives (a zip of .npy members, as numpy.savez writes them) through libzip.
// Without libzip at build time, the built-in reader/writer below (stored members only) is used.
#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <string>

namespace nf {

// Reads every member of an .npz: key = member name without ".npy" ("world_mat_0.npy" ->
// "world_mat_0"), value as parse_npy returns it (CPU tensor). Stored and deflated members both
// work. Throws std::runtime_error in one line naming the file (missing file, not a zip archive or
// truncated) or the file and the member ("<path>: member 'world_mat_3': truncated data ...").
std::map<std::string, at::Tensor> load_npz(const std::filesystem::path& path);

// npz.at(key), or throws "<path>: missing key '<key>'" (path: the file the map was read from).
const at::Tensor& npz_member(const std::map<std::string, at::Tensor>& npz, const std::string& key,
                             const std::filesystem::path& path);

// Writes arrays as an uncompressed .npz (members "<key>.npy", like numpy.savez), atomically:
// "<path>.tmp" then rename. Creates parent folders. Errors name the file (and the member).
void save_npz(const std::filesystem::path& path, const std::map<std::string, at::Tensor>& arrays);

// Built-in zip reader/writer for stored (uncompressed) members only, zip64 sizes included; used by
// load_npz / save_npz where libzip is missing (e.g. the GPU machine). Same errors; a deflated
// member throws "<path>: member '<key>': compressed members need libzip".
std::map<std::string, at::Tensor> load_npz_builtin(const std::filesystem::path& path);
void save_npz_builtin(const std::filesystem::path& path, const std::map<std::string, at::Tensor>& arrays);

// True when .npz goes through libzip (deflated members readable).
bool npz_uses_libzip();

}  // namespace nf
