#include "core/thread_chooser.h"

#include <algorithm>

namespace strata {

ThreadChooser::ThreadChooser(int max_threads) : max_(std::max(1, max_threads)), now_(max_) {
  for (int n : {max_, max_ - 1, (max_ + 1) / 2})
    if (n >= 1 && std::find(candidates_.begin(), candidates_.end(), n) == candidates_.end()) candidates_.push_back(n);
  want_ = candidates_.size() > 1;
}

void ThreadChooser::record_step(double ms) {
  if (candidates_.size() < 2) return;
  since_probe_++;
  if (fastest_ == 0 || ms < fastest_) fastest_ = ms;
  slow_ = ms > slow_factor * fastest_ ? slow_ + 1 : 0;
  bool slower = slow_ >= slow_steps && since_probe_ >= gap_;
  bool retry = now_ < max_ && since_probe_ >= retry_;
  if (slower || retry) want_ = true;
}

void ThreadChooser::record_probe(const std::vector<double>& mean_ms) {
  if (mean_ms.size() != candidates_.size()) return;
  // Ties go to the larger count (listed first): on an idle machine it is the faster one.
  size_t best = std::min_element(mean_ms.begin(), mean_ms.end()) - mean_ms.begin();
  int before = now_;
  now_ = candidates_[best];
  if (now_ != before) switches_++;
  // Keeping the count means the probe was not needed (or the load persists): look again
  // less often.
  gap_ = now_ == before ? std::min(2 * gap_, last_wait) : std::max(gap_ / 2, first_gap);
  retry_ = now_ < max_ && now_ == before ? std::min(2 * retry_, last_wait) : first_retry;
  probes_++;
  want_ = false;
  fastest_ = 0;
  slow_ = 0;
  since_probe_ = 0;
}

}  // namespace strata
