// Issue 16: malformed meshes, volumes and scenes are one-line errors naming the file (and the line,
// face or frame), never a crash (Open3D's PLY path segfaulted) or a plausible wrong input.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <fstream>
#include <limits>

#include "datasets/blender.h"
#include "datasets/mesh_io.h"
#include "datasets/mri_data.h"
#include "support/errors.h"
#include "support/test_data.h"

namespace {
using nf_test::expect_one_line;
std::string error_of(const std::function<void()>& f) { return nf_test::error_of(f, "(no error)"); }
const char* kHead =
    "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
    "element face 1\nproperty list uchar int vertex_indices\nend_header\n";
}  // namespace

TEST(BadFiles, PlyIsValidatedBeforeAnyoneUsesIt) {
  const auto dir = nf_test::scratch("bad_ply");
  std::ofstream(dir / "range.ply") << kHead << "0 0 0\n1 0 0\n0 1 0\n0 0 1\n4 0 1 2 70000\n";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "range.ply").string()); }), "face index 70000 out of range");
  std::ofstream(dir / "short.ply") << kHead << "0 0 0\n1 0 0\n";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "short.ply").string()); }), "short.ply");
  std::ofstream(dir / "neg.ply") << kHead << "0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 -1 2\n";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "neg.ply").string()); }), "neg.ply");
  std::ofstream(dir / "huge.ply") << "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                                     "property float x\nproperty float y\nproperty float z\nend_header\n0000";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "huge.ply").string()); }),
                  "declares more data than the file holds (at least 24000000000 bytes");
  std::ofstream(dir / "ok.ply") << kHead << "0 0 0\n1 0 0\n0 1 0\n0 0 1\n4 0 1 2 3\n";
  const auto m = nf::load_mesh((dir / "ok.ply").string());
  EXPECT_EQ(m.num_faces(), 2);  // the quad, fan-triangulated
}

TEST(BadFiles, ObjNonFiniteVerticesAreRefused) {
  const auto dir = nf_test::scratch("bad_obj");
  std::ofstream(dir / "nan.obj") << "# x\nv 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "nan.obj").string()); }), "nan.obj: line 3: non-finite vertex");
  std::ofstream(dir / "inf.obj") << "v 0 0 0\nv 1 -inf 0\nv 0 1 0\nf 1 2 3\n";
  expect_one_line(error_of([&] { nf::load_mesh((dir / "inf.obj").string()); }), "inf.obj: line 2: non-finite vertex");
}

TEST(BadFiles, NanVoxelIsRefusedNamingTheFile) {
  const auto dir = nf_test::scratch("bad_npy");
  // A float32 .npy [2, 2, 2] with one NaN.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  float v[8] = {0, 1, 2, 3, 4, 5, std::numeric_limits<float>::quiet_NaN(), 7};
  std::ofstream out(dir / "nan.npy", std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(v), sizeof v);
  out.close();
  expect_one_line(error_of([&] { nf::load_mri(dir / "nan.npy"); }), "nan.npy: 1 non-finite voxels");
}

TEST(BadFiles, PosesMustBeFiniteRotations) {
  float id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 4, 0, 0, 0, 1};
  EXPECT_NO_THROW(nf::check_pose(id, 16, "f"));
  float zero[16] = {0};
  expect_one_line(error_of([&] { nf::check_pose(zero, 16, "scene/transforms_train.json: frame 3"); }),
                  "frame 3: 'transform_matrix' rotation part is not orthonormal");
  float scaled[16] = {2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1};
  EXPECT_THROW(nf::check_pose(scaled, 16, "f"), std::runtime_error);
  float nan[16] = {1, 0, 0, std::numeric_limits<float>::quiet_NaN(), 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  expect_one_line(error_of([&] { nf::check_pose(nan, 16, "f"); }), "non-finite");
}
