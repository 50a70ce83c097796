#pragma once
// Whole-file byte I/O with one-line errors naming the file; atomic writes.
#include <filesystem>
#include <string>

namespace nf {

// The bytes of a file. Throws "<path>: cannot open file (no such file)" / "<path>: cannot read".
std::string read_file_bytes(const std::filesystem::path& path);

// Writes bytes to "<path>.tmp" and renames it over path (atomic on one file system); creates parent
// folders. Throws "<path>: cannot write (...)" in one line.
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);

// "<path>.tmp": the temporary name write_file_atomic (and npz's writer) uses for path.
std::filesystem::path temp_path_for(const std::filesystem::path& path);

// Renames tmp over path, creating nothing; on failure removes tmp and throws naming path.
void commit_temp_file(const std::filesystem::path& tmp, const std::filesystem::path& path);

}  // namespace nf
