// Baseline fields: initialisations and forward semantics of SIREN, WIRE, MFN and the encodings.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "fields/encoding.h"
#include "fields/mfn.h"
#include "fields/registry.h"
#include "fields/siren.h"
#include "fields/wire.h"
#include <torch/utils.h>

TEST(Siren, InitialisationBounds) {
  nf::SirenImpl s(nf::SirenOptions(2, 3, 3, 64));
  EXPECT_LE(s.layers[0]->weight.abs().max().item<double>(), 1.0 / 2 + 1e-7);
  const double b = std::sqrt(6.0 / 64) / 30.0;
  EXPECT_LE(s.layers[1]->weight.abs().max().item<double>(), b + 1e-7);
  EXPECT_GT(s.layers[1]->weight.abs().max().item<double>(), 0.9 * b);
  // Hidden activations are sines: bounded by 1.
  auto x = at::rand({100, 2}) * 2 - 1;
  auto h = at::sin(s.layers[0]->forward(x) * 30.0);
  EXPECT_LE(h.abs().max().item<double>(), 1.0);
}

TEST(Wire, HalvesWidthBySqrt2AndIsReal) {
  nf::WireImpl w(nf::WireOptions(2, 3, 3, 40));
  EXPECT_EQ(w.hidden_width(), 28);  // int(40 / sqrt 2)
  auto y = w.forward(at::rand({7, 2}) * 2 - 1);
  EXPECT_EQ(y.scalar_type(), at::kFloat);
  EXPECT_EQ(y.size(1), 3);
}

TEST(Wire, GaborActivationMatchesComplexFormula) {
  // One hidden layer: y = Re(W_out psi(W x + b) + b_out), psi(z) = exp(i w z - |s z|^2), z real.
  nf::WireImpl w(nf::WireOptions(1, 1, 1, 2));  // hidden width int(2/sqrt2) = 1
  auto params = w.named_parameters();
  const double w0 = params["layer0_wr"].item<double>(), b0 = params["layer0_br"].item<double>();
  const double wr = params["output_wr"].item<double>(), wi = params["output_wi"].item<double>();
  const double br = params["output_br"].item<double>();
  const double x = 0.3, z = w0 * x + b0;
  const double mag = std::exp(-100.0 * z * z);
  const double hr = mag * std::cos(20 * z), hi = mag * std::sin(20 * z);
  const double expect = wr * hr - wi * hi + br;
  EXPECT_NEAR(w.forward(at::full({1, 1}, x)).item<double>(), expect, 1e-5);
}

TEST(MFN, FourierAndGaborBuildAndDiffer) {
  nf::MFNImpl f(nf::MFNOptions(2, 1, 4, 32));
  nf::MFNImpl g(nf::MFNOptions(2, 1, 4, 32).filter("gabor"));
  EXPECT_EQ(f.filters.size(), 4u);
  EXPECT_EQ(f.linears.size(), 3u);
  EXPECT_EQ(g.mus.size(), 4u);
  EXPECT_TRUE((g.gammas[0] > 0).all().item<bool>());
  auto x = at::rand({10, 2}) * 2 - 1;
  EXPECT_TRUE(at::isfinite(f.forward(x)).all().item<bool>());
  EXPECT_TRUE(at::isfinite(g.forward(x)).all().item<bool>());
  // Filter frequencies are scaled by input_scale / sqrt(#filters) = 128.
  EXPECT_GT(f.filters[0]->weight.abs().max().item<double>(), 20.0);
}

TEST(Encoding, PositionalEncodingOrdering) {
  nf::PositionalEncodingImpl pe(nf::PositionalEncodingOptions(2).octaves(2).include_input(true));
  auto x = at::tensor({0.25f, -0.5f}).view({1, 2});
  auto y = pe.forward(x);
  ASSERT_EQ(y.size(1), 2 + 2 * 2 * 2);
  const double X = 0.25, Y = -0.5;
  std::vector<double> expect{X, Y, std::sin(M_PI * X), std::sin(M_PI * Y), std::cos(M_PI * X), std::cos(M_PI * Y),
                             std::sin(2 * M_PI * X), std::sin(2 * M_PI * Y), std::cos(2 * M_PI * X),
                             std::cos(2 * M_PI * Y)};
  for (size_t i = 0; i < expect.size(); ++i) EXPECT_NEAR(y[0][i].item<double>(), expect[i], 1e-6) << i;
}

TEST(Encoding, FourierFeaturesScale) {
  torch::manual_seed(0);
  nf::FourierFeaturesImpl rff(nf::FourierFeaturesOptions(2).features(2000).sigma(10.0));
  EXPECT_NEAR(rff.B.std().item<double>(), 10.0, 0.5);
  auto y = rff.forward(at::zeros({1, 2}));
  EXPECT_NEAR(y.slice(1, 0, 2000).mean().item<double>(), 1.0, 1e-6);  // cos(0)
  EXPECT_NEAR(y.slice(1, 2000).abs().max().item<double>(), 0.0, 1e-6);  // sin(0)
}
