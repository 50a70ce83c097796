// The fuzzing corpus as a regression test of the normal build (CI has no clang fuzzing): every file
// in fuzz/corpus/<reader>/ (seeds and the reproducers of every fault the fuzzers found) goes through
// the same harness function the libFuzzer entry calls (fuzz/harness_<reader>.h), plus truncations
// and byte flips of each. Passes when nothing crashes and every refusal is a one-line
// std::runtime_error naming the input file (nf_fuzz::bad_error); under scripts/sanitize.sh the
// sanitizers check the memory too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz/harness_blender.h"
#include "fuzz/harness_checkpoint.h"
#include "fuzz/harness_config.h"
#include "fuzz/harness_image.h"
#include "fuzz/harness_npy.h"
#include "fuzz/harness_npz.h"
#include "fuzz/harness_mesh.h"
#include "support/cli.h"
#include "support/shipped_data.h"

namespace {
namespace fs = std::filesystem;
using Harness = std::function<void(const uint8_t*, size_t)>;

fs::path corpus_dir(const std::string& reader) {
  return nf_test::shipped_data().parent_path().parent_path() / "fuzz" / "corpus" / reader;
}

// Runs one input; a failure names the corpus file and the variant.
void replay(const Harness& h, const char* name, const std::string& bytes, const std::string& label) {
  try {
    h(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  } catch (const std::exception& e) {
    const auto why = nf_fuzz::bad_error(e, name);
    EXPECT_TRUE(why.empty()) << label << ": " << why;
  }
}

// Every corpus file as it is, cut at 8 lengths, and with 8 single bytes flipped (deterministic).
// Returns the number of corpus files.
size_t replay_corpus(const std::string& reader, const Harness& h, const char* name) {
  const auto dir = corpus_dir(reader);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string bytes = nf_test::slurp(f);
    const std::string label = f.filename().string();
    replay(h, name, bytes, label);
    for (size_t k = 0; k < 8 && !bytes.empty(); ++k) {
      const size_t cut = bytes.size() * k / 8;
      replay(h, name, bytes.substr(0, cut), label + " cut at " + std::to_string(cut));
      std::string flipped = bytes;
      const size_t at = (bytes.size() * (2 * k + 1)) / 16;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
      replay(h, name, flipped, label + " byte " + std::to_string(at) + " flipped");
    }
  }
  return files.size();
}
}  // namespace

TEST(FuzzCorpus, Image) { EXPECT_GE(replay_corpus("image", nf_fuzz::image, nf_fuzz::image_name), 4u); }
TEST(FuzzCorpus, Obj) { EXPECT_GE(replay_corpus("obj", nf_fuzz::obj, nf_fuzz::obj_name), 2u); }
TEST(FuzzCorpus, Ply) { EXPECT_GE(replay_corpus("ply", nf_fuzz::ply, nf_fuzz::ply_name), 3u); }
TEST(FuzzCorpus, Npy) { EXPECT_GE(replay_corpus("npy", nf_fuzz::npy, nf_fuzz::npy_name), 3u); }
TEST(FuzzCorpus, Npz) { EXPECT_GE(replay_corpus("npz", nf_fuzz::npz, nf_fuzz::npz_name), 4u); }
TEST(FuzzCorpus, Blender) { EXPECT_GE(replay_corpus("blender", nf_fuzz::blender, nf_fuzz::blender_name), 2u); }
TEST(FuzzCorpus, Config) { EXPECT_GE(replay_corpus("config", nf_fuzz::config, nf_fuzz::config_name), 6u); }
TEST(FuzzCorpus, Checkpoint) {
  EXPECT_GE(replay_corpus("checkpoint", nf_fuzz::checkpoint, nf_fuzz::checkpoint_name), 1u);
}

// The harnesses accept good input: the seeds load (a harness that refused everything would pass
// the tests above). The Blender seed has no images next to it: it passes every JSON check and
// stops at the first frame's image.
TEST(FuzzCorpus, SeedsAreAccepted) {
  const std::vector<std::tuple<std::string, Harness, std::string, std::string>> seeds = {
      {"image", nf_fuzz::image, "rgb8.png", ""}, {"obj", nf_fuzz::obj, "tetra.obj", ""},
      {"ply", nf_fuzz::ply, "tetra_binary_little_endian.ply", ""}, {"npy", nf_fuzz::npy, "f4.npy", ""},
      {"npz", nf_fuzz::npz, "two_views.npz", ""}, {"npz", nf_fuzz::npz, "two_views_deflated.npz", ""},
      {"npz", nf_fuzz::npz, "two_views_zip64.npz", ""}, {"npz", nf_fuzz::npz, "two_views_f4_3x4.npz", ""},
      {"blender", nf_fuzz::blender, "two_frames.json", "transforms_train.json: frame 0: image "},
      {"config", nf_fuzz::config, "siren.json", ""}, {"checkpoint", nf_fuzz::checkpoint, "mlp_1x8.pt", ""}};
  for (const auto& [reader, h, file, error] : seeds) {
    const std::string bytes = nf_test::slurp(corpus_dir(reader) / file);
    ASSERT_FALSE(bytes.empty()) << reader << "/" << file;
    std::string got;
    try {
      h(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      got = e.what();
    }
    if (error.empty())
      EXPECT_EQ(got, "") << reader << "/" << file;
    else
      EXPECT_NE(got.find(error), std::string::npos) << reader << "/" << file << ": " << got;
  }
}
