// Factory: every registered field and every paper method builds from JSON, reports the same JSON,
// and bad configs are answered with errors that list what is valid.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fields/config.h"
#include "fields/encoding.h"
#include "fields/mfn.h"
#include "fields/mlp.h"
#include "fields/registry.h"
#include "fields/siren.h"
#include "fields/wire.h"
#include "support/errors.h"

using nf::ConfigError;

using nf_test::error_of;

TEST(Registry, EveryMethodRoundTripsThroughItsConfig) {
  ASSERT_EQ(nf::method_names().size(), 13u);
  for (const auto& m : nf::method_names()) {
    auto cfg = nf::method_config(m, 2, 3, 3, 16);
    auto field = nf::make_field(cfg);
    auto reported = field->config();
    // Rebuilding from the reported config gives the same config and the same parameter shapes.
    auto again = nf::make_field(reported);
    EXPECT_EQ(again->config(), reported) << m;
    EXPECT_EQ(again->num_parameters(), field->num_parameters()) << m;
    // Every key of the method config survives (values may be normalised, e.g. defaults added).
    for (const auto& [k, v] : cfg.items()) {
      if (v.is_object()) {  // nested (encoding): every given sub-key survives
        for (const auto& [k2, v2] : v.items()) EXPECT_EQ(reported.at(k).at(k2), v2) << m << " key " << k << "." << k2;
      } else {
        EXPECT_EQ(reported.at(k), v) << m << " key " << k;
      }
    }
    auto y = field->forward(at::rand({5, 2}) * 2 - 1);
    EXPECT_EQ(y.sizes(), (c10::IntArrayRef{5, 3})) << m;
    EXPECT_TRUE(at::isfinite(y).all().item<bool>()) << m;
  }
}

TEST(Registry, EveryRegisteredTypeRoundTrips) {
  EXPECT_EQ(nf::FieldRegistry::global().types().size(), 6u);  // mlp, siren, wire, mfn, mipnerf, neus
  for (const auto& type : nf::FieldRegistry::global().types()) {
    nlohmann::json cfg{{"type", type}, {"in_dim", 3}, {"out_dim", 1}, {"hidden_layers", 2}, {"width", 8}};
    if (type == "mipnerf") cfg = {{"type", type}, {"preset", "small"}, {"norm", "cn"}};
    if (type == "neus") cfg = {{"type", type}, {"preset", "small"}, {"norm", "cn"}};
    auto field = nf::make_field(cfg);
    EXPECT_EQ(nf::make_field(field->config())->config(), field->config()) << type;
  }
}

TEST(Registry, NormMethodsHaveNormLayersInEveryHiddenLayer) {
  auto f = nf::make_field(nf::method_config("pe+cn", 2, 3, 10, 28));
  ASSERT_EQ(f->norm_layers().size(), 10u);
  EXPECT_EQ(f->norm_layers()[0]->options.kind(), nf::NormKind::Cross);
  EXPECT_TRUE(f->batch_dependent());
  EXPECT_TRUE(nf::make_field(nf::method_config("pe", 2, 3, 10, 28))->norm_layers().empty());
}

TEST(Registry, PositionalEncodingHasReferenceLayout) {
  // 2-D input, 10 octaves, raw coordinate kept: 2 + 2*2*10 = 42 inputs to the first layer.
  auto f = nf::make_field(nf::method_config("pe", 2, 3, 2, 8));
  auto params = f->named_parameters();
  EXPECT_EQ(params["linear0.weight"].size(1), 42);
}

TEST(Registry, UnknownTypeListsValidTypes) {
  auto msg = error_of([] { nf::make_field({{"type", "kan"}}); });
  EXPECT_NE(msg.find("unknown type 'kan'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mlp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("siren"), std::string::npos) << msg;
}

TEST(Registry, UnknownKeyListsValidKeys) {
  auto msg = error_of([] {
    nf::make_field({{"type", "mlp"}, {"in_dim", 2}, {"out_dim", 3}, {"hidden_layers", 2}, {"width", 8}, {"widht", 9}});
  });
  EXPECT_NE(msg.find("unknown key 'widht'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("width"), std::string::npos) << msg;
}

TEST(Registry, WrongTypeAndMissingKeyAreNamed) {
  auto msg = error_of([] {
    nf::make_field({{"type", "mlp"}, {"in_dim", 2}, {"out_dim", 3}, {"hidden_layers", "ten"}, {"width", 8}});
  });
  EXPECT_NE(msg.find("hidden_layers"), std::string::npos) << msg;
  msg = error_of([] { nf::make_field({{"type", "siren"}, {"in_dim", 2}, {"out_dim", 3}, {"width", 8}}); });
  EXPECT_NE(msg.find("missing key 'hidden_layers'"), std::string::npos) << msg;
  msg = error_of([] {
    nf::make_field({{"type", "mlp"}, {"in_dim", 2}, {"out_dim", 3}, {"hidden_layers", 2}, {"width", 8}, {"norm", "xn"}});
  });
  EXPECT_NE(msg.find("unknown norm 'xn'"), std::string::npos) << msg;
}

TEST(Registry, UnknownMethodAndBadArch) {
  auto msg = error_of([] { nf::method_config("relu+qn", 2, 3, 2, 8); });
  EXPECT_NE(msg.find("relu+qn"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pe+cn"), std::string::npos) << msg;
  EXPECT_EQ(nf::parse_arch("10x28"), (std::pair<int64_t, int64_t>{10, 28}));
  EXPECT_EQ(nf::parse_arch("13\xC3\x97" "49"), (std::pair<int64_t, int64_t>{13, 49}));
  EXPECT_THROW(nf::parse_arch("10x"), ConfigError);
  EXPECT_THROW(nf::parse_arch("big"), ConfigError);
}

TEST(Config, ParentInheritanceAndMalformedJson) {
  auto dir = std::filesystem::temp_directory_path() / "nf_test_config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "base.json") << R"({"method": "relu", "arch": "5x20", "iters": 100})";
  std::ofstream(dir / "child.json") << R"({"parent": "base.json", "method": "relu+cn"})";
  std::ofstream(dir / "bad.json") << R"({"method": "relu", )";
  auto c = nf::load_config_file(dir / "child.json");
  EXPECT_EQ(c["method"], "relu+cn");
  EXPECT_EQ(c["arch"], "5x20");
  EXPECT_FALSE(c.contains("parent"));
  auto msg = error_of([&] { nf::load_config_file(dir / "bad.json"); });
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
  msg = error_of([&] { nf::load_config_file(dir / "missing.json"); });
  EXPECT_NE(msg.find("missing.json"), std::string::npos) << msg;
}

// Options + Impl + TORCH_MODULE, the encoding registry, and defaults written once (in the Options).
TEST(Registry, ConfigsAreTheOnesOlderCheckpointsHold) {
  // A checkpoint stores its field config and is refused when make_field(config)->config() differs:
  // these are the configs written before the key tables (defaults filled in).
  const auto pe_cn = nlohmann::json::parse(R"({"type": "mlp", "in_dim": 2, "out_dim": 3, "hidden_layers": 3,
      "width": 16, "norm": "cn", "norm_eps": 1e-05, "norm_momentum": 0.1, "norm_fused": true,
      "encoding": {"type": "pe", "octaves": 10, "include_input": true}, "output_activation": "none"})");
  EXPECT_EQ(nf::make_field(nf::method_config("pe+cn", 2, 3, 3, 16))->config(), pe_cn);
  const auto rff = nf::make_field(nf::method_config("rff", 2, 3, 3, 16))->config();
  EXPECT_EQ(rff.at("encoding"), nlohmann::json::parse(R"({"type": "rff", "features": 256, "sigma": 10.0})"));
  EXPECT_EQ(rff.at("norm"), "none");
  EXPECT_EQ(nf::make_field(nf::method_config("siren", 2, 3, 3, 16))->config(),
            nlohmann::json::parse(R"({"type": "siren", "in_dim": 2, "out_dim": 3, "hidden_layers": 3, "width": 16,
                                      "omega0": 30.0, "hidden_omega0": 30.0})"));
  EXPECT_EQ(nf::make_field(nf::method_config("wire", 2, 3, 3, 16))->config(),
            nlohmann::json::parse(R"({"type": "wire", "in_dim": 2, "out_dim": 3, "hidden_layers": 3, "width": 16,
                                      "omega": 20.0, "scale": 10.0})"));
  EXPECT_EQ(nf::make_field(nf::method_config("mfn", 2, 3, 3, 16))->config(),
            nlohmann::json::parse(R"({"type": "mfn", "in_dim": 2, "out_dim": 3, "hidden_layers": 3, "width": 16,
                                      "filter": "fourier", "input_scale": 256.0, "weight_scale": 1.0,
                                      "alpha": 6.0, "beta": 1.0})"));
  // Parameter and buffer names (what a checkpoint's tensors are stored under) are unchanged.
  auto f = nf::make_field(nf::method_config("rff+cn", 2, 3, 2, 8));
  for (const char* name : {"linear0.weight", "linear1.bias", "norm0.weight", "output.weight"})
    EXPECT_TRUE(f->named_parameters().contains(name)) << name;
  EXPECT_TRUE(f->named_buffers().contains("encoding.B"));
}

TEST(Registry, DefaultsComeFromTheOptions) {
  const nlohmann::json shape{{"in_dim", 2}, {"out_dim", 1}, {"hidden_layers", 2}, {"width", 8}};
  auto with_type = [&](const char* type) {
    auto c = shape;
    c["type"] = type;
    return nf::make_field(c)->config();
  };
  EXPECT_EQ(with_type("siren").at("omega0").get<double>(), nf::SirenOptions(2, 1, 2, 8).omega0());
  EXPECT_EQ(with_type("wire").at("scale").get<double>(), nf::WireOptions(2, 1, 2, 8).scale());
  EXPECT_EQ(with_type("mfn").at("input_scale").get<double>(), nf::MFNOptions(2, 1, 2, 8).input_scale());
  EXPECT_EQ(with_type("mlp").at("norm_momentum").get<double>(), nf::MLPOptions(2, 1, 2, 8).norm_momentum());
  EXPECT_EQ(nf::make_encoding({{"type", "pe"}}, 2)->config().at("octaves").get<int64_t>(),
            nf::PositionalEncodingOptions(2).octaves());
  EXPECT_EQ(nf::make_encoding({{"type", "rff"}}, 2)->config().at("features").get<int64_t>(),
            nf::FourierFeaturesOptions(2).features());
  // A given value wins over the default.
  auto c = shape;
  c["type"] = "siren";
  c["omega0"] = 12.5;
  EXPECT_EQ(nf::make_field(c)->config().at("omega0").get<double>(), 12.5);
}

TEST(Registry, ModulesHaveTorchModuleHolders) {
  nf::Siren s(nf::SirenOptions(2, 3, 2, 8));
  nf::MLP m(nf::MLPOptions(2, 3, 2, 8).norm(nf::NormKind::Cross));
  nf::Wire w(nf::WireOptions(2, 3, 2, 8));
  nf::MFN g(nf::MFNOptions(2, 3, 2, 8));
  const at::Tensor x = at::rand({5, 2});
  for (nf::Field f : std::vector<nf::Field>{s.ptr(), m.ptr(), w.ptr(), g.ptr()}) {
    EXPECT_EQ(f->forward(x).sizes(), (c10::IntArrayRef{5, 3}));
    EXPECT_EQ(nf::make_field(f->config())->config(), f->config());
  }
  EXPECT_EQ(m->norm_layers().size(), 2u);
}

TEST(Registry, EncodingRegistryChecksTypesAndKeys) {
  EXPECT_EQ(nf::EncodingRegistry::global().types(), (std::vector<std::string>{"none", "pe", "rff"}));
  auto msg = error_of([] { nf::make_encoding({{"type", "hash"}}, 2); });
  EXPECT_NE(msg.find("unknown type 'hash' (valid: none, pe, rff)"), std::string::npos) << msg;
  msg = error_of([] { nf::make_encoding({{"type", "pe"}, {"octave", 6}}, 2); });  // typo of octaves
  EXPECT_NE(msg.find("encoding 'pe': unknown key 'octave' (valid keys: octaves, include_input)"), std::string::npos)
      << msg;
  msg = error_of([] {
    auto c = nf::method_config("pe", 2, 3, 2, 8);
    c["encoding"] = {{"type", "pe"}, {"octaves", "six"}};
    nf::make_field(c);
  });
  EXPECT_NE(msg.find("encoding 'pe': key 'octaves'"), std::string::npos) << msg;
  EXPECT_EQ(nf::make_encoding(nullptr, 3)->out_dim(), 3);  // null: identity
}

// The names a checkpoint's tensors are stored under (parameters, then buffers), per method at 3x8,
// exactly as main's code wrote them before the TORCH_MODULE holders and key tables
// (scripts/make_test_checkpoints.cpp printed this list; dd01698).
TEST(Registry, StateDictNamesAreTheOnesOlderCheckpointsHold) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected{
      {"siren", {"linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "output.weight", "output.bias"}},
      {"mfn", {"filter0.weight", "filter0.bias", "filter1.weight", "filter1.bias", "filter2.weight", "filter2.bias", "linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "output.weight", "output.bias"}},
      {"wire", {"layer0_wr", "layer0_br", "layer1_wr", "layer1_br", "layer1_wi", "layer1_bi", "layer2_wr", "layer2_br", "layer2_wi", "layer2_bi", "output_wr", "output_br", "output_wi", "output_bi"}},
      {"relu", {"linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "output.weight", "output.bias"}},
      {"relu+bn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"relu+ln", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"relu+gn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"relu+cn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"pe", {"linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "output.weight", "output.bias"}},
      {"pe+bn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"pe+ln", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"pe+gn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"pe+cn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"rff", {"linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "output.weight", "output.bias", "encoding.B"}},
      {"rff+cn", {"linear0.weight", "linear0.bias", "norm0.weight", "norm0.bias", "linear1.weight", "linear1.bias", "norm1.weight", "norm1.bias", "linear2.weight", "linear2.bias", "norm2.weight", "norm2.bias", "output.weight", "output.bias", "encoding.B", "norm0.frozen_mean", "norm0.frozen_var", "norm0.frozen_count", "norm1.frozen_mean", "norm1.frozen_var", "norm1.frozen_count", "norm2.frozen_mean", "norm2.frozen_var", "norm2.frozen_count"}},
      {"mfn-gabor", {"mu0", "gamma0", "mu1", "gamma1", "mu2", "gamma2", "filter0.weight", "filter0.bias", "filter1.weight", "filter1.bias", "filter2.weight", "filter2.bias", "linear0.weight", "linear0.bias", "linear1.weight", "linear1.bias", "output.weight", "output.bias"}}};
  ASSERT_EQ(expected.size(), nf::method_names().size() + 3);
  for (const auto& [method, names] : expected) {
    auto f = nf::make_field(nf::method_config(method, 2, 3, 3, 8));
    std::vector<std::string> got;
    for (const auto& p : f->named_parameters()) got.push_back(p.key());
    for (const auto& b : f->named_buffers()) got.push_back(b.key());
    EXPECT_EQ(got, names) << method;
  }
}
