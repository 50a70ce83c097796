// .npy reader, MRI forward model, k-space masks and the zero-filled baseline.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "datasets/mri_data.h"
#include "support/errors.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace {

// Writes a .npy v1 file with the given header dict and `data_bytes` zero bytes of payload.
void write_npy(const std::filesystem::path& p, const std::string& dict, size_t data_bytes,
               const std::string& magic = "\x93NUMPY") {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(p, std::ios::binary);
  f << magic << '\x01' << '\x00';
  f.put(static_cast<char>(header.size() & 0xff));
  f.put(static_cast<char>(header.size() >> 8));
  f << header << std::string(data_bytes, '\0');
}

// load_npy(p) throws a one-line std::runtime_error naming p and holding `what`.
void expect_throw_naming(const std::filesystem::path& p, const std::string& what) {
  nf_test::expect_one_line_error([&] { nf::load_npy(p); }, {p.string(), what});
}


}  // namespace

TEST(Npy, ReadsDtypesAndVersions) {
  auto dir = nf_test::scratch("mri_npy_ok");
  write_npy(dir / "f4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
  auto t = nf::load_npy(dir / "f4.npy");
  EXPECT_EQ(t.scalar_type(), at::kFloat);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3}));
  // uint16 (widened to int32) with a real payload, format version 2.0 header.
  {
    std::string header = "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }";
    while ((12 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream f(dir / "u2.npy", std::ios::binary);
    f << "\x93NUMPY" << '\x02' << '\x00';
    const uint32_t n = static_cast<uint32_t>(header.size());
    for (int i = 0; i < 4; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
    f << header;
    const uint16_t v[3] = {1, 300, 65535};
    f.write(reinterpret_cast<const char*>(v), sizeof v);
  }
  auto u = nf::load_npy(dir / "u2.npy");
  EXPECT_EQ(u.scalar_type(), at::kInt);
  EXPECT_EQ(u[2].item<int64_t>(), 65535);
  EXPECT_EQ(u[1].item<int64_t>(), 300);
}

TEST(Npy, BrokenFilesThrowNamingTheFile) {
  auto dir = nf_test::scratch("mri_npy_bad");
  write_npy(dir / "magic.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
            "\x93NUMPX");
  expect_throw_naming(dir / "magic.npy", "bad magic");
  write_npy(dir / "short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 60);
  expect_throw_naming(dir / "short.npy", "truncated");
  write_npy(dir / "fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
  expect_throw_naming(dir / "fortran.npy", "fortran");
  write_npy(dir / "dtype.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8);
  expect_throw_naming(dir / "dtype.npy", "unsupported dtype '>f4'");
  write_npy(dir / "c16.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32);
  expect_throw_naming(dir / "c16.npy", "unsupported dtype");
  expect_throw_naming(dir / "missing.npy", "cannot open");
}

TEST(Mri, LoadsColinVolume) {
  auto raw = nf::load_npy(nf_test::shipped_data() / "mri" / "ch2_48cube_uint8.npy");
  EXPECT_EQ(raw.scalar_type(), at::kByte);
  auto v = nf::load_mri(nf_test::shipped_data() / "mri" / "ch2_48cube_uint8.npy");
  ASSERT_EQ(v.sizes(), (std::vector<int64_t>{48, 48, 48}));
  EXPECT_EQ(v.scalar_type(), at::kFloat);
  EXPECT_GE(v.min().item<double>(), 0.0);
  EXPECT_LE(v.max().item<double>(), 1.0);
  EXPECT_GT(v.max().item<double>(), 0.5);
  EXPECT_GT(v.mean().item<double>(), 0.02);  // a head, not an empty box
  EXPECT_TRUE(at::allclose(v, raw.to(at::kFloat) / 255.0));
}

TEST(Mri, ForwardIsOrthonormalAndInvertible) {
  auto v = at::rand({12, 10, 8}, at::kDouble);
  auto k = nf::mri_forward(v);
  ASSERT_TRUE(k.is_complex());
  ASSERT_EQ(k.sizes(), v.sizes());
  const double e_img = v.pow(2).sum().item<double>();
  const double e_k = at::abs(k).pow(2).sum().item<double>();
  EXPECT_NEAR(e_k, e_img, 1e-9 * e_img);  // Parseval
  // DC at index 0 (unshifted): mean * sqrt(N).
  EXPECT_NEAR(at::real(k[0][0][0]).item<double>(), v.sum().item<double>() / std::sqrt(960.0), 1e-9);
  auto back = nf::mri_inverse(k);
  EXPECT_TRUE(at::allclose(at::real(back), v, 1e-9, 1e-9));
  EXPECT_LT(at::imag(back).abs().max().item<double>(), 1e-9);
  // Full mask -> zero-filled reconstruction is the volume itself.
  auto full = nf::make_mri_problem(v.to(at::kFloat), "random", 1.0, 3);
  EXPECT_EQ(full.mask.sum().item<double>(), 960.0);
  EXPECT_TRUE(at::allclose(nf::mri_zero_filled(full), v.to(at::kFloat), 1e-5, 1e-5));
}

TEST(Mri, MasksHaveTheRateAndAreReproducible) {
  const std::vector<int64_t> sz{32, 32, 32};
  for (const std::string pattern : {"random", "gaussian", "lines"}) {
    for (double rate : {0.1, 0.25, 0.5}) {
      auto m = nf::kspace_mask(sz, pattern, rate, 11);
      ASSERT_EQ(m.sizes(), at::IntArrayRef(sz));
      EXPECT_NEAR(m.mean().item<double>(), rate, 0.02) << pattern << " " << rate;
      EXPECT_TRUE(at::equal(m, nf::kspace_mask(sz, pattern, rate, 11))) << pattern;
      EXPECT_FALSE(at::equal(m, nf::kspace_mask(sz, pattern, rate, 12))) << pattern;
      // The centre (DC at index 0 and its wrapped neighbours) is always sampled.
      EXPECT_EQ(m[0][0][0].item<double>(), 1.0);
      EXPECT_EQ(m[31][1][31].item<double>(), 1.0);
      EXPECT_TRUE(at::logical_or(m == 0, m == 1).all().item<bool>());
    }
  }
  // Variable density: low frequencies (wrapped around index 0) are sampled far more often than
  // the high ones (around index n/2).
  auto g = nf::kspace_mask(sz, "gaussian", 0.2, 5);
  auto low = at::cat({g.narrow(0, 0, 6), g.narrow(0, 26, 6)}, 0);
  auto low_block = at::cat({low.narrow(1, 0, 6), low.narrow(1, 26, 6)}, 1);
  const double p_low = at::cat({low_block.narrow(2, 0, 6), low_block.narrow(2, 26, 6)}, 2).mean().item<double>();
  const double p_high = g.narrow(0, 12, 8).narrow(1, 12, 8).narrow(2, 12, 8).mean().item<double>();
  EXPECT_GT(p_low, 0.8);
  EXPECT_LT(p_high, 0.05);
  // "lines" samples whole readout lines along the last axis.
  auto l = nf::kspace_mask(sz, "lines", 0.25, 5);
  EXPECT_TRUE(at::equal(l.amax(-1), l.amin(-1)));
  EXPECT_THROW(nf::kspace_mask(sz, "spiral", 0.2, 1), std::runtime_error);
}

TEST(Mri, ProblemAndZeroFilledBaseline) {
  auto v = nf::load_mri(nf_test::shipped_data() / "mri" / "ch2bet_48cube_uint8.npy");
  auto p = nf::make_mri_problem(v, "gaussian", 0.2, 1);
  ASSERT_EQ(p.observed.sizes(), v.sizes());
  ASSERT_TRUE(p.observed.is_complex());
  // Unobserved coefficients are exactly zero; observed ones equal the true k-space.
  auto k = nf::mri_forward(v);
  EXPECT_EQ(at::abs(p.observed).masked_select(p.mask == 0).abs().max().item<double>(), 0.0);
  EXPECT_TRUE(at::allclose(at::abs(p.observed - k * p.mask), at::zeros_like(v), 1e-6, 1e-6));
  auto psnr = [](const at::Tensor& a, const at::Tensor& b) {
    return 10.0 * std::log10(1.0 / (a - b).pow(2).mean().item<double>());
  };
  auto zf = nf::mri_zero_filled(p);
  const double p20 = psnr(zf.clamp(0, 1), v);
  const double p50 = psnr(nf::mri_zero_filled(nf::make_mri_problem(v, "gaussian", 0.5, 1)).clamp(0, 1), v);
  EXPECT_GT(p20, 20.0);  // variable density keeps most of the energy
  EXPECT_GT(p50, p20);
  // Noise: reproducible, and the std of the perturbation on observed entries matches.
  auto n1 = nf::make_mri_problem(v, "random", 0.3, 2, 0.01);
  auto n2 = nf::make_mri_problem(v, "random", 0.3, 2, 0.01);
  EXPECT_TRUE(at::equal(n1.observed, n2.observed));
  auto diff = at::real(n1.observed - k * n1.mask).masked_select(n1.mask > 0);
  EXPECT_NEAR(diff.std().item<double>(), 0.01, 0.001);
}
