#pragma once
// NumPy .npy arrays: reading and writing whole files, and parsing / encoding in memory (for .npz
// members, see datasets/npz.h).
#include <ATen/ATen.h>

#include <filesystem>
#include <string>

namespace nf {

// Parses the bytes of a .npy array (format 1.0, 2.0 or 3.0; C order; little-endian dtypes |u1 <u1
// |b1 <u2 <i2 <i4 <i8 <f4 <f8). Returns a CPU tensor of that shape: u1 -> uint8, b1 -> bool,
// u2 -> int32 (widened), i2 -> int16, i4 -> int32, i8 -> int64, f4 -> float32, f8 -> float64.
// Throws std::runtime_error "<what>: <problem>" (what names the file or the npz member) for bad
// magic, bad header, fortran order, unsupported dtype and truncated data.
at::Tensor parse_npy(const std::string& bytes, const std::string& what);

// The .npy bytes (format 1.0, C order) of a CPU or CUDA tensor of dtype uint8, bool, int16, int32,
// int64, float32 or float64; anything else throws "<what>: ..." in one line.
std::string encode_npy(const at::Tensor& t, const std::string& what);

// Reads a .npy file (see parse_npy); errors are "<path>: <problem>", also for a missing file.
at::Tensor load_npy(const std::filesystem::path& path);

// Writes a tensor as a .npy file (see encode_npy). Creates parent folders; writes "<path>.tmp" and
// renames it over path (atomic on one file system). Errors name the file.
void save_npy(const std::filesystem::path& path, const at::Tensor& t);

}  // namespace nf
