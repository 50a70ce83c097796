#pragma once
// The torch-side state of one TrainingRun, owned by its training thread (app/viewer/training_run.cpp),
// and what that thread renders (app/viewer/run_preview.cpp). Not for the GL/ImGui code.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "app/viewer/progressive.h"
#include "app/viewer/training_run.h"
#include "fields/field.h"
#include "tasks/lr_schedule.h"
#include "tasks/task.h"
#include "tasks/trainer.h"

namespace nf::viewer {

using Clock = std::chrono::steady_clock;

struct TrainingRun::State {
  RunSpec spec;
  nlohmann::json task_cfg;  // config of the built task (a restart with the same one keeps it)
  std::unique_ptr<Task> task;
  Field field;
  std::unique_ptr<Trainer> trainer;         // holds a reference to *task: reset before task
  bool has_camera = false;
  double lr = 0;                            // the schedule's initial lr, or the lr control's override
  double last_lr = 0;                       // the lr the last step used (from its LogRecord)
  int64_t first_step = 0;                   // trainer step when the curves start (checkpoint resume)
  std::vector<float> loss_hist, psnr_hist;  // one entry per step
  std::vector<std::pair<int64_t, float>> heldout;
  int64_t last_heldout_step = -1;
  bool failed = false;
  std::string status;
  std::deque<std::tuple<Clock::time_point, int64_t, double>> rate;  // (wall, step, trainer seconds)
  double train_its = 0, wall_its = 0;
  // The shown preview: its images, the view request and step it answers, its scale and cost.
  std::vector<ImageBuf> images;
  std::map<std::string, double> scalars;
  int64_t view_id = -1, view_step = -1;
  double view_scale = 0, view_ms = 0;
  double view_coverage = 1;  // share of the shown pixels rendered at view_scale (progressive: less)
  bool view_partial = false; // the shown images are a progressive composite (not one render of view_step)
  double cost_per_px = 0;    // preview seconds per pixel (running mean)
  ProgressiveView progressive;
  // The training share (RenderBudget::train_share) over time: every training slice of t seconds
  // grants the preview t (1 - share) / share seconds of credit; previews spend it (a new camera is
  // answered at once, even on credit), and a slice without credit keeps the shown picture.
  double preview_credit = 0;
  double preview_spent_s = 0, train_spent_s = 0;  // totals while training (measured share)
  int64_t step() const { return trainer ? trainer->step() : 0; }
};

// Renders what the UI should see after a slice of slice_s seconds (0: no training) for `view`: the
// task's preview at the resolution the budget allows, or, while the run trains and the camera is
// still, the next phases of the progressive full-resolution view (app/viewer/progressive.h). Updates
// s.images, s.scalars, s.view_*, s.heldout (heldout: also measure the held-out PSNR).
void render_for_view(TrainingRun::State& s, const ViewRequest& view, const RenderBudget& b, double slice_s,
                     bool heldout);

}  // namespace nf::viewer
