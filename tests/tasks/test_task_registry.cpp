// The task registry (tasks/task_registry.h): tasks built from JSON, their errors, the training
// protocol merge (task default < config < flags) and the paper's learning-rate rule in one place.
#include <gtest/gtest.h>

#include "fields/config.h"
#include "fields/registry.h"
#include "tasks/image_task.h"
#include "tasks/task_registry.h"

using nlohmann::json;

TEST(TaskRegistry, ListsTheTasksAndBuildsAnImageTask) {
  const auto names = nf::TaskRegistry::global().names();
  for (const char* t : {"ct", "image", "mri", "nerf", "neus", "occupancy"})
    EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << t;
  auto task = nf::make_task({{"task", "image"}, {"image", "zone-plate:12"}, {"batch", 16}, {"seed", 3}});
  ASSERT_EQ(task->name(), "image");
  const auto& img = static_cast<nf::ImageTask&>(*task);
  EXPECT_EQ(img.image().sizes(), (at::IntArrayRef{12, 12, 3}));
  EXPECT_EQ(task->config()["batch"], 16);
  EXPECT_EQ(task->config()["source"], "zone-plate:12");
  const auto dims = nf::TaskRegistry::global().get("image").field_dims(*task);
  EXPECT_EQ(dims, (std::pair<int64_t, int64_t>{2, 3}));
  // A stored config (a checkpoint's) maps back: "source" names the image.
  const auto back = nf::task_config_from_stored(task->config(), "ckpt");
  EXPECT_EQ(back["image"], "zone-plate:12");
  EXPECT_EQ(back["batch"], 16);
  EXPECT_FALSE(back.contains("height"));
  EXPECT_EQ(nf::make_task(back)->config()["height"], 12);
}

TEST(TaskRegistry, ErrorsNameTheTaskAndKey) {
  try {
    nf::make_task({{"task", "nerv"}});
    FAIL();
  } catch (const nf::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown task 'nerv' (valid: ct, image, mri, nerf, neus, occupancy"),
              std::string::npos)
        << e.what();
  }
  try {
    nf::make_task({{"task", "image"}, {"image", "zone-plate:8"}, {"batchsize", 4}});
    FAIL();
  } catch (const nf::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'batchsize'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nf::make_task({{"task", "image"}, {"image", "/nonexistent/x.png"}}), std::exception);
  EXPECT_THROW(nf::make_task({{"task", "nerf"}}), nf::ConfigError);  // no scene
}

// NeuS in the registry: errors name the key (before any data is read), the config file's "neus" block
// is the task config, and the protocol defaults (lr 5e-4, config neus_small) merge like every task's.
TEST(TaskRegistry, NeusErrorsNameTheKeyAndItsProtocolMerges) {
  auto what = [](const json& cfg) {
    try {
      nf::make_task(cfg);
    } catch (const nf::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no ConfigError");
  };
  const auto e1 = what({{"task", "neus"}, {"scene", "/nonexistent/scan"}, {"n_sampels", 16}});
  EXPECT_NE(e1.find("task config 'neus': unknown key 'n_sampels'"), std::string::npos) << e1;
  EXPECT_NE(e1.find("n_samples"), std::string::npos) << e1;  // the valid keys are listed
  const auto e2 = what({{"task", "neus"}, {"batch", 64}});
  EXPECT_NE(e2.find("missing key 'scene'"), std::string::npos) << e2;
  const auto e3 = what({{"task", "neus"}, {"scene", "/nonexistent/scan"}, {"batch", "many"}});
  EXPECT_NE(e3.find("'batch'"), std::string::npos) << e3;
  const auto e4 = what({{"task", "neus"}, {"scene", "/nonexistent/scan"}, {"n_importance", 30}, {"up_sample_steps", 4}});
  EXPECT_NE(e4.find("up_sample_steps"), std::string::npos) << e4;
  for (const auto& e : {e1, e2, e3, e4}) EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  // A missing scene folder is a one-line error naming it (not a ConfigError: the data).
  try {
    nf::make_task({{"task", "neus"}, {"scene", "/nonexistent/scan"}});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/scan"), std::string::npos) << e.what();
  }
  const json file = {{"neus", {{"batch", 128}, {"n_samples", 16}}}, {"lr", 1e-3}, {"iters", 50}};
  const auto tc = nf::task_config_from("neus", file, {{"scene", "s"}, {"batch", 32}});
  EXPECT_EQ(tc, (json{{"task", "neus"}, {"scene", "s"}, {"batch", 32}, {"n_samples", 16}}));
  const auto& e = nf::TaskRegistry::global().get("neus");
  EXPECT_EQ(e.source_key, "scene");
  EXPECT_EQ(e.config_block, "neus");
  EXPECT_FALSE(e.field_dims);  // the field comes whole from the config
  auto p = nf::merge_protocol("neus", json::object(), json::object(), "x");
  EXPECT_DOUBLE_EQ(p["lr"].get<double>(), 5e-4);
  EXPECT_EQ(p["config"], "neus_small");
  p = nf::merge_protocol("neus", file, {{"iters", 7}}, "x");
  EXPECT_DOUBLE_EQ(p["lr"].get<double>(), 1e-3);
  EXPECT_EQ(p["iters"], 7);
  // A stored config (NeusTask::config(): extra keys such as scale_mat) maps back to the task's keys.
  const auto back = nf::task_config_from_stored({{"task", "neus"}, {"scene", "s"}, {"batch", 32}, {"scale_mat", {1, 2}},
                                                 {"train_views", {0, 1}}},
                                                "ckpt");
  EXPECT_EQ(back, (json{{"task", "neus"}, {"scene", "s"}, {"batch", 32}}));
}

TEST(TaskRegistry, ProtocolMergeOrderAndTheTaskLrFinal) {
  // Task defaults (CT: the paper's protocol).
  auto p = nf::merge_protocol("ct", json::object(), json::object(), "x");
  EXPECT_EQ(p["arch"], "2x128");
  EXPECT_EQ(p["iters"], 20000);
  EXPECT_DOUBLE_EQ(p["lr"].get<double>(), 5e-3);
  EXPECT_DOUBLE_EQ(p["lr_final"].get<double>(), 5e-4);
  EXPECT_EQ(p["schedule"], "exponential");
  EXPECT_EQ(p["method"], "pe+cn");  // default_protocol()
  // The config overrides the task, flags override the config.
  p = nf::merge_protocol("ct", {{"iters", 300}, {"arch", "3x64"}}, {{"iters", 7}}, "x");
  EXPECT_EQ(p["iters"], 7);
  EXPECT_EQ(p["arch"], "3x64");
  // Setting lr alone drops the task's lr_final (it belonged to the task's lr): lr / 10 then.
  p = nf::merge_protocol("ct", json::object(), {{"lr", 1e-3}}, "x");
  EXPECT_DOUBLE_EQ(p["lr_final"].get<double>(), -1.0);
  p = nf::merge_protocol("ct", {{"lr", 1e-3}, {"lr_final", 2e-5}}, json::object(), "x");
  EXPECT_DOUBLE_EQ(p["lr_final"].get<double>(), 2e-5);
  // NeRF: mip-NeRF's 5e-4 unless the config says otherwise.
  EXPECT_DOUBLE_EQ(nf::merge_protocol("nerf", json::object(), json::object(), "x")["lr"].get<double>(), 5e-4);
  EXPECT_DOUBLE_EQ(nf::merge_protocol("nerf", {{"lr", 5e-3}}, json::object(), "x")["lr"].get<double>(), 5e-3);
  EXPECT_THROW(nf::merge_protocol("image", {{"iters", "many"}}, json::object(), "cfg.json"), nf::ConfigError);
}

TEST(TaskRegistry, PaperLearningRateRule) {
  EXPECT_DOUBLE_EQ(nf::paper_default_lr(true), 1e-2);
  EXPECT_DOUBLE_EQ(nf::paper_default_lr(false), 2e-4);
  EXPECT_DOUBLE_EQ(nf::resolve_lr(-1, "relu+cn"), 1e-2);
  EXPECT_DOUBLE_EQ(nf::resolve_lr(-1, "siren"), 2e-4);
  EXPECT_DOUBLE_EQ(nf::resolve_lr(3e-3, "siren"), 3e-3);
  auto with = nf::make_field(nf::method_config("relu+bn", 2, 3, 2, 8));
  auto without = nf::make_field(nf::method_config("relu", 2, 3, 2, 8));
  EXPECT_DOUBLE_EQ(nf::resolve_lr(-1, *with), 1e-2);
  EXPECT_DOUBLE_EQ(nf::resolve_lr(-1, *without), 2e-4);
}

TEST(TaskRegistry, TaskConfigFromAConfigFile) {
  const json file = {{"nerf", {{"batch", 512}, {"n_coarse", 32}}}, {"iters", 600}, {"angles", 50}};
  auto n = nf::task_config_from("nerf", file, {{"scene", "s"}, {"batch", 64}});
  EXPECT_EQ(n, json({{"task", "nerf"}, {"batch", 64}, {"n_coarse", 32}, {"scene", "s"}}));
  auto c = nf::task_config_from("ct", file);
  EXPECT_EQ(c, json({{"task", "ct"}, {"angles", 50}}));
}
