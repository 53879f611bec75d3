// session_graphs.cpp: a train step's device work (forward, losses, backward, optimizer, the
// metrics' copy toward the host) recorded by the backend once per plan and replayed at the
// following steps: on "cuda" a CUDA graph, one launch for the step's 40-60 kernels
// (BackendOptions::cuda_graphs). The batch is put in place before it (load_inputs,
// load_targets) and the metrics are read after it, outside the recording.
//
// A replay repeats the recorded kernels with the recorded arguments on the recorded memory, so:
//   - what changes from step to step reaches the kernels through memory written before each
//     launch: the learning rate, Adam's step and the Dropout seeds' step part
//     (Backend::set_step_values); the batch through the planned input and target buffers;
//   - a recording is made per plan (input shapes) and per set of losses given sample weights;
//     a step is recorded at a plan only after a step ran there unrecorded (it creates the
//     optimizer's slots, sizes the workspaces) whose work neither fed nor waited for the host:
//     a step that uploads host data (the noise layers', the augmentation's draws, a Gather's
//     indices, a Cast from integers), downloads (a Dropout's mask output, a Cast to integers,
//     ActivityRegularization, the weight rules' penalties and constraints) or waits (a
//     Gather's index check) runs unrecorded, every time;
//   - a recording is valid while the memory it uses keeps its owners: when the backend frees
//     or regrows memory outside a recording (a re-plan to larger buffers, a slot replaced by
//     set_optimizer_slot) its memory generation changes and every recording is dropped;
//   - a profiled session (desc_.profile) times each node with events: never recorded.
// The host's part of the step (Value::written, the step count, penalty_) is the recorded
// step's, restored on replay.
#include "check.h"
#include "session.h"

namespace strata {

void Session::run_step_work() {
  weights_version_++;  // the optimizer and the moving statistics change weights (fold_batchnorms)
  if (!be_->records_steps() || desc_.profile) return step_work();
  if (be_->memory_generation() != recorded_generation_) {
    be_->drop_recordings();
    for (auto& [plan, rec] : recordings_) rec.handle = -1;
    recorded_generation_ = be_->memory_generation();
  }
  be_->set_step_values(desc_.optimizer, iterations_ + 1, seed_step());
  // a recording per plan and per set of losses given sample weights (a loss kernel's argument)
  std::vector<Shape> key = planned_;
  key.emplace_back();
  for (const float* w : row_weight_data_) key.back().push_back(w != nullptr);
  StepRecording& rec = recordings_[key];
  if (rec.handle >= 0) return replay_step(rec);
  if (rec.plain_steps > 0 && !rec.needs_host && !rec.refused) return record_step(rec);
  uint64_t before = be_->host_interactions();
  step_work();
  rec.needs_host = be_->host_interactions() != before;
  rec.plain_steps++;
}

// Records the step's work and replays it at once (a recording runs nothing). Where the work
// needed the host after all, or threw, none of it ran: the plan is refused and the step runs
// unrecorded (an error it raises again is the step's own).
void Session::record_step(StepRecording& rec) {
  const int64_t iterations = iterations_;
  be_->begin_recording();
  bool threw = false;
  try {
    step_work();
  } catch (const std::exception&) {
    threw = true;
  }
  const int handle = be_->end_recording();
  iterations_ = iterations;  // the recorded optimizer step has not run yet
  if (threw || handle < 0) {
    rec.refused = true;
    return step_work();
  }
  rec.handle = handle;
  rec.written.clear();
  for (const Value& v : values_) rec.written.push_back(v.written);
  rec.penalty = penalty_;
  replay_step(rec);
}

void Session::replay_step(const StepRecording& rec) {
  be_->replay(rec.handle);
  replayed_steps_++;
  iterations_++;
  for (size_t k = 0; k < values_.size(); k++) values_[k].written = rec.written[k];
  penalty_ = rec.penalty;
}

}  // namespace strata
