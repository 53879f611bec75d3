// session.h: the engine's public C++ API. A Session owns one ONNX graph, its
// weights, optimizer state and every activation/gradient buffer, and runs
// forward, backward and optimizer steps on batches. The N-API binding wraps this
// class one-to-one; nothing here knows about JavaScript.
//
//   auto s = Session::from_onnx(bytes, size, description);
//   StepResult r = s->train_step(inputs, targets);   // r.loss falls over steps
//   std::vector<Tensor> y = s->forward(inputs);      // inference mode
//   s->get_weight("dense/kernel"), s->set_weight(...)
//
// Buffers are planned once per input-shape signature (the first batch, and again
// only when the batch size changes) and reused by every step. On a backend with its own
// memory (a GPU: Backend::host_memory() false) every value, gradient and optimizer slot lives
// there from the first step on; a step uploads its batch and reads back only its metrics.
// Not thread-safe: one call at a time (the binding runs them on one worker);
// request_stop() is the exception and may be called from any thread.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backend.h"
#include "graph.h"
#include "kernel.h"
#include "losses.h"
#include "optim.h"
#include "regularization.h"
#include "thread_chooser.h"

namespace strata {

struct LossSpec {
  std::string output;  // graph output name
  LossKind kind = LossKind::MeanSquaredError;
  bool from_logits = false;
  float weight = 1.0f;  // Keras's loss_weights
  std::vector<MetricKind> metrics;  // computed beside the loss, forward only (losses.h)
};

struct TrainingDescription {
  std::vector<LossSpec> losses;        // one per trained output
  std::vector<std::string> trainable;  // initializer names; empty = the weight slots (see session.cpp)
  OptimizerConfig optimizer;           // OptimizerConfig::keras_default(...) for Keras's defaults
  uint64_t seed = 0;                   // Dropout masks; the same seed gives the same run
  std::string backend = "cpu";         // "cpu" (oneDNN), "reference", "cuda"
  BackendOptions backend_options;      // e.g. CUDA's TF32 (backend.h)
  int num_threads = -1;                // oneDNN/OpenMP threads; 0: all cores; -1 (auto): all cores
                                       // while they are the fastest, fewer when another process
                                       // makes them slower (thread_chooser.h)
  bool profile = false;                // time every node (Session::node_times)
  // Keras's regularizers and constraints of trainable weights (regularization.h): the penalties
  // join StepResult::loss in train_step and evaluate, the constraints follow each optimizer step.
  std::vector<WeightRule> weight_rules;
};

struct NodeTime {
  std::string node;  // "Conv node 'conv2d/Conv'"
  double forward_ms = 0, backward_ms = 0;
  int forward_runs = 0, backward_runs = 0;  // the passes the times add up (thread probes' left out)
};

struct StepResult {
  float loss = 0;                                 // sum of weight * loss over outputs
  std::vector<float> output_losses;               // per LossSpec, unweighted
  std::vector<std::vector<float>> metrics;       // per LossSpec, the values of its metrics in order
  bool stopped = false;                           // request_stop() was seen; nothing was run
};

// One step's data: inputs in the order of input_names(), targets in the order of the losses,
// sample weights as train_step takes them.
struct Batch {
  std::vector<Tensor> inputs, targets, sample_weights;
};

class Session {
 public:
  Session(Graph graph, TrainingDescription desc);
  ~Session();
  static std::unique_ptr<Session> from_onnx(const void* bytes, size_t size, const TrainingDescription& desc);
  static std::unique_ptr<Session> from_onnx_file(const std::string& path, const TrainingDescription& desc);

  // Inputs in the order of input_names(); targets in the order of description().losses.
  // Sparse labels are class indices stored as floats. sample_weights, if given, has one
  // tensor per loss: empty, or one weight per row of that output (Keras's sample_weight;
  // class_weight becomes one).
  StepResult train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                        const std::vector<Tensor>& sample_weights = {});
  // Prefetching: train_step with `next`, the batch the following step will train on, which is
  // uploaded while this step computes (on a GPU: from pinned memory on a copy stream that the
  // next step waits for; the CPU backends just keep it). train_staged() then trains on it,
  // and may stage the one after. The results are train_step's on the same batches, bit for bit.
  StepResult train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                        const std::vector<Tensor>& sample_weights, std::optional<Batch> next);
  StepResult train_staged(std::optional<Batch> next = std::nullopt);
  bool has_staged() const { return staged_.has_value(); }
  StepResult evaluate(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                      const std::vector<Tensor>& sample_weights = {});
  // Inference-mode forward; returns every graph output in the order of output_names().
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs);

  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  std::vector<std::string> weight_names() const;     // every initializer (Constants included)
  std::vector<std::string> trainable_names() const;
  Tensor get_weight(const std::string& name) const;
  void set_weight(const std::string& name, const Tensor& value);  // same shape required
  // dL/dweight from the last train_step (zeros where no gradient reached it).
  Tensor get_gradient(const std::string& name) const;

  // Keras callbacks (LearningRateScheduler, ReduceLROnPlateau) change it between steps;
  // optimizer state (moments, iterations) is kept.
  void set_learning_rate(float lr) { desc_.optimizer.learning_rate = lr; }

  void request_stop() { stop_ = true; }
  void clear_stop() { stop_ = false; }
  bool stop_requested() const { return stop_; }
  int64_t iterations() const { return iterations_; }  // optimizer steps taken
  // Train steps whose work ran as a replay of a recorded step (CUDA graphs; session_graphs.cpp).
  int64_t replayed_steps() const { return replayed_steps_; }
  // Saving and resuming training (Keras keeps the optimizer's variables across fit() calls):
  // a trainable weight's optimizer slots, "m" (momentum / Adam's first moment), "v" (Adam's
  // second moment / RMSprop's average) and "mg" (centered RMSprop's average gradient, amsgrad's
  // largest v), empty until first used;
  // and the step count that Adam's bias correction and the Dropout masks follow.
  std::vector<float> get_optimizer_slot(const std::string& weight, const std::string& slot) const;
  void set_optimizer_slot(const std::string& weight, const std::string& slot, std::vector<float> values);
  void set_iterations(int64_t n) { iterations_ = n; }
  // Time spent per node since creation (only with description().profile), thread probes left
  // out, and the passes it adds up: on a GPU the time its kernels took there (CUDA events), on
  // the CPU the host's time for the node.
  std::vector<NodeTime> node_times() const { return times_; }
  const TrainingDescription& description() const { return desc_; }
  // With num_threads = -1: the thread count in use, its probes and switches so far.
  const ThreadChooser& thread_chooser() const { return threads_; }
  // The count for inference passes (forward, evaluate): chosen apart from training's, since a
  // forward pass alone suffers less from a busy core than a train step (session_threads.cpp).
  const ThreadChooser& inference_thread_chooser() const { return infer_threads_; }
  // Times forward and backward passes of a batch on each candidate count and tells the
  // chooser; train_step calls it when the chooser asks. It changes no weight, optimizer slot,
  // moving statistic or step count (the next train step overwrites its gradients).
  void probe_threads(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                     const std::vector<Tensor>& sample_weights = {});
  // The activations planned in the backend's blocked layout (nChw<B>c; kernel.h), for
  // tests and profiling.
  std::vector<std::string> blocked_values() const;
  Backend& backend() { return *be_; }

 private:
  struct Value {
    std::string name;
    Tensor t;            // activation, input or weight
    Tensor grad;         // dL/dvalue, sized when needs_grad
    bool is_weight = false;
    bool needs_grad = false;
    bool written = false;  // grad holds this step's gradient
    // A folded Dense kernel's rows (row_order.h): row r of t, grad and the optimizer slots
    // holds the graph's row row_order[r]; empty: the graph's order.
    std::vector<int64_t> row_order;
  };
  struct Step {          // one node, resolved to value indices
    std::unique_ptr<OpKernel> kernel;
    std::vector<int> in, out;  // -1 for omitted
    bool relu_fused = false;   // the kernel also applies the Relu that read its output
    std::string clip_fused;      // the Clip node that read it, applied inside (fuse_clips)
    std::string pool_fused;    // the MaxPool node that read it, computed inside (fuse_conv_pools)
    std::string flatten_folded;  // the Transpose and Flatten before it, never run (fold_flattens)
    std::string pad_folded;      // the Pad before it, never run: its pads are the Conv's (fold_pads)
    int bn_fold = -1;            // the Conv, BatchNormalization (and Clip) of a BnFold: its index in bn_folds_
  };
  // fold_batchnorms: a Conv whose output only a BatchNormalization reads. In inference that
  // BatchNormalization is an affine map per channel, so the Conv runs with weights and bias
  // scaled and shifted by it, writing the BatchNormalization's output. The folded copies follow
  // the weights and moving statistics: refolded when weights_version_ moved since.
  // A Clip with constant bounds (ReLU6) or a Relu that alone reads the BN's output comes along:
  // the Conv clamps its output and writes the Clip's.
  struct BnFold {
    size_t conv = 0, bn = 0;          // steps_ indices
    int clip = -1;                    // the Clip's (or Relu's) step, or -1
    float clip_lo = 0, clip_hi = 0;   // its bounds
    Tensor weight, bias;              // the folded copies
    uint64_t version = UINT64_MAX;    // weights_version_ they were folded at
    bool usable = false;              // the planned layouts let the Conv write the BN's output
  };
  struct FlattenFold {  // fold_flattens: a Gemm reading `source` flattened, and its weight
    int source = -1, weight = -1;
  };
  struct LossPlan {
    int pred = -1;           // the value the loss reads
    bool from_logits = false;
    int skip_node = -1;      // a fused Softmax/Sigmoid whose backward the loss replaces
  };
  struct Slots {  // a trainable weight's optimizer slots (optim.h's names), held once first used
    Tensor m, v, mg;
  };

  Graph graph_;
  TrainingDescription desc_;
  std::unique_ptr<Backend> be_;
  std::vector<Value> values_;
  std::map<std::string, int> index_;
  std::vector<Step> steps_;
  std::vector<int> inputs_, outputs_, trainable_;
  std::vector<LossPlan> loss_plans_;
  std::map<int, Slots> slots_;
  std::vector<Tensor> scratch_;  // per input slot, for = writers of shared values
  std::vector<Shape> planned_;   // input shapes (and small int64 inputs) the buffers were planned for
  std::vector<NodeTime> times_;  // per step, when profiling
  struct NodeMarks {             // a node's work between two of the backend's marks
    size_t node;
    bool backward;
    int from, to;
  };
  std::vector<NodeMarks> node_marks_;  // this call's, until collect_node_times
  std::vector<bool> blocked_;    // per value: held in the backend's blocked layout (plan_layouts)
  std::vector<FlattenFold> folds_;
  std::vector<BnFold> bn_folds_;
  // Moves whenever a weight or moving statistic may have changed (train steps, set_weight).
  uint64_t weights_version_ = 0;
  ThreadChooser threads_;        // num_threads = -1 (see thread_chooser.h): train steps
  ThreadChooser infer_threads_;  // and inference passes
  int probing_ = 0;              // while a probe runs: the count being timed
  int64_t iterations_ = 0;
  std::vector<int> rule_values_;  // per desc_.weight_rules: its weight's value index
  double penalty_ = 0;            // the weight rules' penalty for read_metrics (this step's weights)
  std::vector<Tensor> rule_grads_;  // per weight rule: its penalty's gradient where the backend reads it
  std::atomic<bool> stop_{false};
  // Where values live (session_plan.cpp): on the device when the backend has its own memory.
  Backend* device_ = nullptr;    // be_ then, else null (Tensor::device)
  std::vector<bool> host_copy_;  // per graph input: read on the host too (Cast, Gather's indices)
  Tensor metrics_;               // per loss: the loss, then its metrics' values; read after a step
  Tensor loss_grad_;             // a loss's grad, when its prediction already has one from elsewhere
  std::vector<Tensor> targets_, row_weights_;  // per loss, this step's targets on the device
  struct Staged {  // a batch uploaded ahead (train_step's `next`)
    Batch batch;   // on the host: shapes, int64 inputs, and the floats on a CPU backend
    std::vector<const float*> floats;  // on a device: where each float tensor's values landed (batch_parts' order)
  };
  std::optional<Staged> staged_;
  // While a staged batch's step runs: its floats on the device, in batch_parts' order; else empty.
  std::vector<const float*> arrived_;
  std::vector<const float*> target_data_, row_weight_data_;  // per loss, where the backend reads them (load_targets)
  // The step's work recorded by the backend (CUDA graphs; session_graphs.cpp), per plan and
  // per set of losses given sample weights.
  struct StepRecording {
    int handle = -1;             // the backend's recording; -1: none yet (or dropped)
    int plain_steps = 0;         // steps run unrecorded at this plan
    bool needs_host = false;     // the last unrecorded step's work fed or waited for the host
    bool refused = false;        // a recording failed at this plan: its steps run unrecorded
    std::vector<bool> written;   // per value: Value::written after the step
    double penalty = 0;          // penalty_ after the step
  };
  std::map<std::vector<Shape>, StepRecording> recordings_;
  uint64_t recorded_generation_ = 0;  // the backend's memory generation the recordings are valid for
  int64_t replayed_steps_ = 0;

  int value_index(const std::string& name) const;
  void pick_trainable();
  std::set<std::string> visible_names() const;
  std::map<int, std::vector<std::pair<size_t, size_t>>> value_readers() const;
  void drop_steps(const std::vector<bool>& drop);
  void fuse_relus();
  void fuse_clips();
  void fuse_conv_pools();
  void fold_flattens();
  void fold_batchnorms();
  void fold_pads();
  bool zero_spatial_pads(const Step& pad, std::vector<int64_t>& pads) const;
  // Whether a Clip step's bounds are constants (initializers; an omitted one is open), and which.
  bool constant_clip_bounds(const Step& clip, float& lo, float& hi) const;
  void refold_batchnorm(BnFold& f);
  // Whether step k is half of a BnFold that this pass runs folded (inference passes only).
  bool runs_folded(size_t k, bool training) const;
  // An inference pass's Conv step with its BatchNormalization folded in (fold_batchnorms).
  void run_folded_conv(Step& conv, KernelContext& ctx);
  void plan_layouts();
  void order_folded_rows();
  // A weight's values (or gradient, or optimizer slot) in the graph's row order, and back.
  std::vector<float> to_graph_order(const Value& v, std::vector<float> values) const;
  std::vector<float> from_graph_order(const Value& v, std::vector<float> values) const;
  void place_values();
  void plan(const std::vector<Tensor>& inputs);
  void load_inputs(const std::vector<Tensor>& inputs);
  // A host tensor where the backend reads it: itself on the host, else its copy in `on_device`
  // (uploaded, or copied from `arrived`, where a staged batch has it on the device).
  const float* backend_copy(const Tensor& host, Tensor& on_device, const float* arrived = nullptr);
  // The batch's float tensors, in the order stage() and arrived_ list them: inputs, targets,
  // sample weights (an int64 input or an absent weight is a part of 0 floats).
  static Backend::HostParts batch_parts(const Batch& b);
  const float* arrived(size_t part) const { return part < arrived_.size() ? arrived_[part] : nullptr; }
  void stage(Batch next);
  StepResult run_train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                            const std::vector<Tensor>& sample_weights, std::optional<Batch>& next);
  int step_threads(bool training) const;
  // Runs an inference pass (forward, evaluate's forward) on the count infer_threads_ picks,
  // probing first when it asks to and timing the pass for it.
  void run_inference(const std::vector<Tensor>& inputs);
  void probe_inference_threads(const std::vector<Tensor>& inputs);
  void run_forward(const std::vector<Tensor>& inputs, bool training);
  // The thread count, the plan and the batch's inputs in place: what precedes the forward nodes.
  void prepare_forward(const std::vector<Tensor>& inputs, bool training);
  // Queues the losses (and, with_grad, their grads) on the backend; read_metrics() waits for
  // them and returns them. = load_targets, then queue_losses.
  void compute_losses(const std::vector<Tensor>& targets, const std::vector<Tensor>& sample_weights,
                      bool with_grad);
  // Checks the targets and sample weights against the planned outputs and puts them where the
  // backend reads them (target_data_, row_weight_data_).
  void load_targets(const std::vector<Tensor>& targets, const std::vector<Tensor>& sample_weights);
  void queue_losses(bool with_grad);
  // Queues loss k's metrics (LossSpec::metrics) into result, one float each.
  void queue_metrics(float* result, size_t k);
  // A train step's work once its batch is in place: forward, losses, backward, optimizer.
  void step_work();
  // step_work as the backend can best run it: recorded once per plan and replayed where it
  // records steps (session_graphs.cpp), else as it is.
  void run_step_work();
  void record_step(StepRecording& rec);
  void replay_step(const StepRecording& rec);
  // The step's part of every Dropout seed (run_node_timed).
  uint64_t seed_step() const { return (uint64_t)iterations_ * 1000003ull; }
  StepResult read_metrics() const;
  void run_backward();
  bool any_output_grad(const Step& s) const;
  void apply_optimizer();
  // The weight rules' penalty on the current weights; with add_grads, their gradients join the
  // weights' (before clipping and the optimizer).
  double weight_penalty(bool add_grads);
  void apply_constraints();
  void run_node(size_t k, bool training, bool backward);
  // Adds the marks' times to times_ (profile), after the call's wait for the backend.
  void collect_node_times();
  void run_node_timed(size_t k, bool training, bool backward);
};

}  // namespace strata
