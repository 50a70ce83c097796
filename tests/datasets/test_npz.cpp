// .npy writing and .npz archives: round trips, a malformed member, a missing member, truncated files.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "fields/file_io.h"
#include "datasets/npy.h"
#include "datasets/npz.h"
#include "support/errors.h"
#include "support/test_data.h"
#include "support/zip_bytes.h"

namespace fs = std::filesystem;

namespace {

using nf_test::expect_one_line_error;

// CRC-32 (zip's polynomial), to patch a member's bytes and keep the archive consistent.
using nf_test::crc32;
std::string le32(uint32_t v) { return nf_test::le_bytes(v, 4); }

// Replaces `from` by `to` (same length) inside the stored member `member` and fixes its CRC in the
// local header and the central directory.
void patch_member(const fs::path& p, const at::Tensor& member, const std::string& from, const std::string& to) {
  std::string zip = nf::read_file_bytes(p);
  std::string npy = nf::encode_npy(member, "x");
  const size_t at_npy = zip.find(npy);
  ASSERT_NE(at_npy, std::string::npos);
  const std::string old_crc = le32(crc32(npy));
  npy.replace(npy.find(from), from.size(), to);
  zip.replace(at_npy, npy.size(), npy);
  int patched = 0;
  for (size_t q = zip.find(old_crc); q != std::string::npos; q = zip.find(old_crc, q + 4), ++patched)
    zip.replace(q, 4, le32(crc32(npy)));
  ASSERT_EQ(patched, 2);  // local header + central directory
  nf::write_file_atomic(p, zip);
}

std::map<std::string, at::Tensor> sample_arrays() {
  std::map<std::string, at::Tensor> m;
  m["world_mat_0"] = at::arange(16, at::kDouble).reshape({4, 4}) * 0.5;
  m["f"] = at::rand({3, 5, 2});
  m["i"] = at::arange(-3, 4, at::kLong);
  m["u8"] = at::arange(0, 250, 10, at::kByte);
  m["b"] = at::tensor({1, 0, 1}).to(at::kBool);
  m["s"] = at::tensor({-7, 300}, at::kShort);
  m["i32"] = at::tensor({-70000, 5}, at::kInt);
  m["scalar"] = at::scalar_tensor(2.5, at::kDouble);
  m["empty"] = at::zeros({0, 3});
  return m;
}

}  // namespace

TEST(Npy, SaveLoadRoundTripAllDtypes) {
  const fs::path dir = nf_test::scratch("npy_rt");
  for (const auto& [k, t] : sample_arrays()) {
    nf::save_npy(dir / (k + ".npy"), t);
    const at::Tensor back = nf::load_npy(dir / (k + ".npy"));
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << k;
    EXPECT_EQ(back.sizes(), t.sizes()) << k;
    EXPECT_TRUE(at::equal(back, t)) << k;
    EXPECT_FALSE(fs::exists(dir / (k + ".npy.tmp"))) << k;
  }
  // Header padded so the data starts at a multiple of 64 bytes (numpy's layout).
  const std::string bytes = nf::read_file_bytes(dir / "f.npy");
  EXPECT_EQ((bytes.size() - 3 * 5 * 2 * 4) % 64, 0u);
  expect_one_line_error([&] { nf::save_npy(dir / "c.npy", at::zeros({2}, at::kComplexFloat)); },
                        {(dir / "c.npy").string(), "float64"});
}

TEST(Npz, RoundTripAndStoredMembers) {
  const fs::path p = nf_test::scratch("npz_rt") / "sub" / "a.npz";
  const auto arrays = sample_arrays();
  nf::save_npz(p, arrays);
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
  const auto back = nf::load_npz(p);
  ASSERT_EQ(back.size(), arrays.size());
  for (const auto& [k, t] : arrays) {
    ASSERT_TRUE(back.count(k)) << k;
    EXPECT_EQ(back.at(k).scalar_type(), t.scalar_type()) << k;
    EXPECT_TRUE(at::equal(back.at(k), t)) << k;
  }
  // Members are stored (uncompressed) .npy files named <key>.npy, as numpy.savez writes them: the
  // raw .npy bytes of a member appear verbatim in the archive.
  const std::string zip = nf::read_file_bytes(p);
  EXPECT_EQ(zip.compare(0, 2, "PK"), 0);
  EXPECT_NE(zip.find("world_mat_0.npy"), std::string::npos);
  EXPECT_NE(zip.find(nf::encode_npy(arrays.at("world_mat_0"), "x")), std::string::npos);
  // Overwriting replaces the file; an empty archive round-trips.
  nf::save_npz(p, {{"only", at::ones({2})}});
  EXPECT_EQ(nf::load_npz(p).size(), 1u);
  nf::save_npz(p, {});
  EXPECT_TRUE(nf::load_npz(p).empty());
}

TEST(Npz, ErrorsNameFileAndMember) {
  const fs::path dir = nf_test::scratch("npz_bad");
  const fs::path missing = dir / "missing.npz";
  expect_one_line_error([&] { nf::load_npz(missing); }, {missing.string(), "no such file"});

  // A member whose .npy header is malformed (big-endian dtype): the error names file and member.
  const fs::path p = dir / "bad_member.npz";
  const at::Tensor m1 = at::ones({4, 4}, at::kDouble);
  nf::save_npz(p, {{"good", at::ones({2})}, {"world_mat_1", m1}});
  patch_member(p, m1, "'<f8'", "'>f8'");
  expect_one_line_error([&] { nf::load_npz(p); }, {p.string(), "member 'world_mat_1'", "'>f8'"});
  // Corrupt bytes without fixing the CRC: libzip's CRC check names the member (builtin: the parse).
  const fs::path q = dir / "crc.npz";
  nf::save_npz(q, {{"w", m1}});
  std::string zip = nf::read_file_bytes(q);
  zip.replace(zip.find("'shape': (4, 4)"), 15, "'shape': (4, 9)");
  nf::write_file_atomic(q, zip);
  expect_one_line_error([&] { nf::load_npz(q); }, {q.string(), "member 'w'"});
  // A missing member.
  nf::save_npz(q, {{"good", at::ones({2})}});
  const auto ok = nf::load_npz(q);
  expect_one_line_error([&] { nf::npz_member(ok, "scale_mat_0", p); }, {p.string(), "missing key 'scale_mat_0'"});
  EXPECT_EQ(nf::npz_member(ok, "good", p).size(0), 2);

  // A truncated archive (the central directory is lost), and a file that is not a zip at all.
  const fs::path t = dir / "truncated.npz";
  nf::save_npz(t, {{"a", at::rand({64, 64})}});
  const std::string full = nf::read_file_bytes(t);
  nf::write_file_atomic(t, full.substr(0, full.size() / 2));
  expect_one_line_error([&] { nf::load_npz(t); }, {t.string()});
  const fs::path junk = dir / "junk.npz";
  nf::write_file_atomic(junk, std::string(100, 'x'));
  expect_one_line_error([&] { nf::load_npz(junk); }, {junk.string()});

}

TEST(Npz, BuiltinReaderWriterMatchLibzip) {
  const fs::path dir = nf_test::scratch("npz_builtin");
  const auto arrays = sample_arrays();
  nf::save_npz(dir / "lib.npz", arrays);
  nf::save_npz_builtin(dir / "own.npz", arrays);
  for (const char* name : {"lib.npz", "own.npz"}) {
    for (const auto& back : {nf::load_npz(dir / name), nf::load_npz_builtin(dir / name)}) {
      ASSERT_EQ(back.size(), arrays.size()) << name;
      for (const auto& [k, t] : arrays) EXPECT_TRUE(at::equal(back.at(k), t)) << name << " " << k;
    }
  }
  // Errors: truncated, junk, corrupt member (CRC), missing file.
  const std::string full = nf::read_file_bytes(dir / "own.npz");
  nf::write_file_atomic(dir / "t.npz", full.substr(0, full.size() - 30));
  expect_one_line_error([&] { nf::load_npz_builtin(dir / "t.npz"); }, {(dir / "t.npz").string()});
  std::string bad = full;
  bad.replace(bad.find("'shape': (4, 4)"), 15, "'shape': (4, 9)");
  nf::write_file_atomic(dir / "crc.npz", bad);
  expect_one_line_error([&] { nf::load_npz_builtin(dir / "crc.npz"); }, {(dir / "crc.npz").string(), "member 'world_mat_0'"});
  expect_one_line_error([&] { nf::load_npz_builtin(dir / "none.npz"); }, {"none.npz", "no such file"});
  // The real DTU cameras (stored members written by numpy) read the same both ways.
  const fs::path real = nf_test::data_dir() / "dtu" / "dtu_scan65_400x300" / "cameras_sphere.npz";
  if (fs::exists(real)) {
    const auto a = nf::load_npz(real), b = nf::load_npz_builtin(real);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.size(), 49u * 6);
    for (const auto& [k, t] : a) EXPECT_TRUE(at::equal(t, b.at(k))) << k;
  }
}
