#pragma once
// The viewer's "Extract mesh" for one TrainingRun: Task::mesh_info / Task::extract_mesh
// (tasks/mesh_request.h) run on the run's training thread (TrainingRun::with_task), so they never
// race the weights; training waits while a mesh is extracted (the UI keeps drawing: it only reads
// the progress and, when done, a plain copy of the mesh). Cancel stops after the current slab.
// This header holds no torch types (the GL/ImGui code includes it).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/viewer/training_run.h"
#include "tasks/mesh_request.h"

namespace nf::viewer {

// A mesh as plain arrays.
struct MeshBuf {
  int64_t version = 0;                    // 0: none yet; increases with every finished extraction
  std::vector<float> positions, normals;  // [V * 3]
  std::vector<uint32_t> indices;          // [F * 3]
  int64_t vertices = 0, faces = 0, boundary_edges = 0;
  int64_t step = 0, resolution = 0;       // the training step and grid it was extracted at
  double threshold = 0, seconds = 0;
  std::array<float, 3> lo{0, 0, 0}, hi{0, 0, 0};  // vertex bounds
};

struct MeshJobStatus {
  bool busy = false;     // an extraction is queued or running
  double progress = 0;   // of the running one, in [0, 1]
  std::string message;   // the last outcome ("mesh: 1234 faces ...", an error, "saved ...")
  int64_t version = 0;   // of the last finished mesh
};

class MeshJob {
 public:
  explicit MeshJob(TrainingRun& run);
  ~MeshJob();
  MeshJob(const MeshJob&) = delete;
  MeshJob& operator=(const MeshJob&) = delete;

  // What the run's task offers (asked on the training thread once; false until it answered).
  bool info(MeshInfo& out);
  // Queues an extraction (request.progress is set here); ignored while one is busy.
  void start(MeshRequest request);
  void cancel();
  MeshJobStatus status() const;
  // Copies the latest mesh into out when it is newer than out.version.
  bool latest(MeshBuf& out) const;
  // Queues write_ply of the last mesh to path (atomic; folders created). The outcome is the message.
  void save_ply(std::string path);
  // Waits until no extraction or save is queued or running. False on timeout.
  bool wait_idle(double timeout_s) const;

  struct Shared;  // state shared with the commands on the training thread (mesh_job.cpp)

 private:
  TrainingRun& run_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace nf::viewer
