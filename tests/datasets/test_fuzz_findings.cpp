// Issue 16: one regression test per class of fault found by the fuzzers (fuzz/, docs/reliability.md)
// and by reading the readers they drive. Each input was a crash, a hang, undefined behaviour or an
// error that was not one line naming the file; each is now a one-line std::runtime_error (or the
// right value). The reproducers are also in fuzz/corpus/ (tests/tasks/test_fuzz_corpus.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>

#include "datasets/blender.h"
#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "datasets/mri_data.h"
#include "datasets/npy.h"
#include "datasets/npz.h"
#include "support/errors.h"
#include "support/test_data.h"
#include "support/zip_bytes.h"

namespace {
using nf_test::expect_one_line;
using nf_test::runtime_error_of;
// A .npy file: magic, version 1.0, the header dict padded to 64 bytes, then the data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}
void write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}
// A .npy file `name` (header dict `dict`, then `data`) in the fresh scratch folder `folder`: its path.
std::filesystem::path npy_file(const std::string& folder, const std::string& name, const std::string& dict,
                               const std::string& data = "") {
  const auto p = nf_test::scratch(folder) / name;
  write(p, npy_bytes(dict, data));
  return p;
}
using nf_test::crc32;
// Little-endian bytes of v.
std::string le(uint64_t v, int bytes) { return nf_test::le_bytes(v, bytes); }
// A zip of stored members (name, bytes). usize: the uncompressed size claimed for every member
// (0: the true size); when set, both headers carry 0xffffffff and a zip64 extra field holding it.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members, uint64_t usize = 0) {
  std::string zip, cd;
  for (const auto& [name, data] : members) {
    const std::string extra = usize ? le(1, 2) + le(16, 2) + le(usize, 8) + le(data.size(), 8) : "";
    const std::string sizes = usize ? le(0xffffffffu, 4) + le(0xffffffffu, 4) : le(data.size(), 4) + le(data.size(), 4);
    const std::string common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(crc32(data), 4) + sizes +
                               le(name.size(), 2) + le(extra.size(), 2);
    cd += "PK\x01\x02" + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip.size(), 4) + name + extra;
    zip += "PK\x03\x04" + common + name + extra + data;
  }
  const size_t off = zip.size();
  return zip + cd + "PK\x05\x06" + le(0, 4) + le(members.size(), 2) + le(members.size(), 2) + le(cd.size(), 4) +
         le(off, 4) + le(0, 2);
}
}  // namespace

// A shape too long for int64 threw std::out_of_range from std::stoll (not a one-line error).
TEST(FuzzFindings, NpyShapeBeyondInt64IsAHeaderError) {
  const auto big = npy_file("fz_npy_shape", "big.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, ), }");
  expect_one_line(runtime_error_of([&] { nf::load_npy(big); }), "big.npy: header has no valid 'shape'");
}

// A bool array holding bytes other than 0/1 became bool tensors with invalid values (undefined
// behaviour in every later op); any non-zero byte is True, as in NumPy.
TEST(FuzzFindings, NpyBoolBytesAreZeroOrOne) {
  const auto t = nf::load_npy(
      npy_file("fz_npy_bool", "b.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", std::string("\x00\x02\xff\x01", 4)));
  ASSERT_EQ(t.scalar_type(), at::kBool);
  EXPECT_EQ(t.to(at::kByte).sum().item<int64_t>(), 3);
  EXPECT_EQ(t.to(at::kByte).max().item<int64_t>(), 1);
}

// An empty volume reached min() and threw LibTorch's multi-line c10::Error.
TEST(FuzzFindings, EmptyMriVolumeIsRefused) {
  expect_one_line(runtime_error_of([] {
                    nf::load_mri(npy_file("fz_mri_empty", "e.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4, 4), }"));
                  }),
                  "e.npy: volume is empty (0x4x4)");
}

// A PLY element without properties and a huge count was counted row by row (9e18 rows: a hang).
TEST(FuzzFindings, PlyElementWithoutPropertiesIsSkipped) {
  const auto dir = nf_test::scratch("fz_ply_noprops");
  write(dir / "t.ply",
        "ply\nformat ascii 1.0\nelement junk 9000000000000000000\nelement vertex 4\nproperty float x\n"
        "property float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n");
  const auto m = nf::load_mesh((dir / "t.ply").string());
  EXPECT_EQ(m.vertices.size(0), 4);
  EXPECT_EQ(m.faces.size(0), 1);
}

// Blender file_path: "\u0000" cut the path at the system call (another file was opened); a name
// too long made std::filesystem throw an error naming only the image, not the JSON and frame.
TEST(FuzzFindings, BlenderFilePathIsCheckedNamingTheFrame) {
  const auto dir = nf_test::scratch("fz_blender_path");
  const std::string tf = (dir / "transforms_train.json").string();
  const std::string pose = R"("transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]])";
  write(dir / "transforms_train.json",
        R"({"camera_angle_x": 0.7, "frames": [{"file_path": "transforms_train.json\u0000", )" + pose + "}]}");
  expect_one_line(runtime_error_of([&] { nf::load_blender(dir, "train"); }),
                  tf + ": frame 0: 'file_path' contains a NUL character");
  write(dir / "transforms_train.json",
        R"({"camera_angle_x": 0.7, "frames": [{"file_path": ")" + std::string(300, 'a') + "\", " + pose + "}]}");
  expect_one_line(runtime_error_of([&] { nf::load_blender(dir, "train"); }), tf + ": frame 0: image ");
}

// Bytes of the file quoted in an error made it two lines: a .npy dtype with a newline in it
// (fuzz_npy, fuzz/corpus/npy/crash-newline-in-dtype.npy) ...
TEST(FuzzFindings, NpyDtypeIsQuotedPrintable) {
  const auto d = npy_file("fz_npy_dtype", "d.npy", "{'descr': '<\nf8', 'fortran_order': False, 'shape': (1, 2, 2), }", std::string(32, '\0'));
  expect_one_line(runtime_error_of([&] { nf::load_mri(d); }), "d.npy: unsupported dtype '<?f8'");
}

// ... stb's reason for an unknown critical PNG chunk, which holds the chunk's type bytes
// (fuzz_image, fuzz/corpus/image/crash-chunk-type-bytes-in-reason.png) ...
TEST(FuzzFindings, ImageDecoderReasonIsQuotedPrintable) {
  const auto dir = nf_test::scratch("fz_png_chunk");
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0d", 4) + "IHDR" + std::string("\0\0\0\x07\0\0\0\x07\x08\0\0\0\0", 13) + "CRC.";
  png += std::string("\0\0\0\0", 4) + "\n\nAB" + "CRC.";
  write(dir / "c.png", png);
  expect_one_line(runtime_error_of([&] { nf::load_image(dir / "c.png"); }), "c.png: not a PNG/JPEG image or corrupt (");
}

// ... and a Blender file_path with a newline, quoted in the missing-image error.
TEST(FuzzFindings, BlenderImagePathIsQuotedPrintable) {
  const auto dir = nf_test::scratch("fz_blender_nl");
  write(dir / "transforms_train.json",
        R"({"camera_angle_x": 0.7, "frames": [{"file_path": "a\nb", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]}]})");
  expect_one_line(runtime_error_of([&] { nf::load_blender(dir, "train"); }), "frame 0: image " + (dir / "a?b.png").string() + ": no such file");
}

// Npz (fuzz_npz): a member name with a newline quoted into the error made it two lines, in both zip
// readers (libzip and the built-in one).
TEST(FuzzFindings, NpzMemberNameIsQuotedPrintable) {
  const auto dir = nf_test::scratch("fz_npz_name");
  write(dir / "n.npz", stored_zip({{"world\nmat.npy", "not npy"}}));
  for (const auto& load : {nf::load_npz, nf::load_npz_builtin})
    expect_one_line(runtime_error_of([&] { load(dir / "n.npz"); }), "n.npz: member 'world?mat': not a .npy file");
}

// A member's claimed uncompressed size was allocated before reading (libzip: std::string of 2^62
// bytes threw std::length_error; 4 GB ones took the memory); the built-in reader's zip64 fields
// were read without bounds and stored members with two different sizes were taken at one of them.
TEST(FuzzFindings, NpzMemberSizesAreChecked) {
  const auto dir = nf_test::scratch("fz_npz_size");
  const std::string npy = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  write(dir / "huge.npz", stored_zip({{"a.npy", npy}}, uint64_t(1) << 62));
  expect_one_line(runtime_error_of([&] { nf::load_npz(dir / "huge.npz"); }), "huge.npz: member 'a'");
  expect_one_line(runtime_error_of([&] { nf::load_npz_builtin(dir / "huge.npz"); }), "huge.npz: member 'a': stored member with sizes");
  write(dir / "dup.npz", stored_zip({{"a.npy", npy}, {"a.npy", npy}}));
  for (const auto& load : {nf::load_npz, nf::load_npz_builtin}) {
    const std::string msg = runtime_error_of([&] { load(dir / "dup.npz"); });
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find("dup.npz"), std::string::npos) << msg;
  }
  // A zip64 extra field shorter than the fields it must hold.
  std::string z = stored_zip({{"a.npy", npy}}, npy.size());
  const size_t cd = z.find("PK\x01\x02");
  z.replace(cd + 30, 2, le(8, 2));               // the central extra length: 8 instead of 20
  z.replace(cd + 46 + 5 + 2, 2, le(4, 2));       // the zip64 field's len: 4 (half a size)
  write(dir / "z64.npz", z);
  expect_one_line(runtime_error_of([&] { nf::load_npz_builtin(dir / "z64.npz"); }), "z64.npz: bad central directory entry 0");
}

