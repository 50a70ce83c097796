#pragma once
// Whole-file byte I/O with one-line errors naming the file, and the one write-to-a-temporary-then-rename helper (issue 14/16): every output a run depends on
// (checkpoints, results.json, images, meshes) goes through here, so a crash, kill -9 or full disk
// never leaves a half-written file under the final name and never destroys the previous one.
//
//   write_file_atomic(path, bytes): writes "<path>.tmp" with write(2), fsync()s it, renames it
//   over path and fsync()s the folder. On any error the temporary is removed, the old file is left
//   as it was, and a one-line std::runtime_error names the path: "disk full writing <path>" for
//   ENOSPC/EDQUOT, else "<path>: cannot write (<reason>)".
#include <filesystem>
#include <string>

namespace nf {

void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);

// For writers that stream into the temporary themselves (e.g. npz): "<path>.tmp", then
// commit_temp_file(tmp, path) renames it over path durably (removes tmp and throws on failure).
std::filesystem::path temp_path_for(const std::filesystem::path& path);
void commit_temp_file(const std::filesystem::path& tmp, const std::filesystem::path& path);

// Writes all of bytes to the open fd with write(2) (retrying EINTR), then fsync()s it (EINVAL, from
// /dev/null-like targets, ignored). Returns 0 or the errno of the first failure; written: bytes written.
int write_all_and_sync(int fd, const std::string& bytes, size_t* written = nullptr);

// The bytes of a file. Throws "<path>: cannot open file (no such file)" / "<path>: cannot read".
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace nf
