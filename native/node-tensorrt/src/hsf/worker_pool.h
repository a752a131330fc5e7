// A few long-lived helper threads for the CPU HSF: starting threads on every call would cost more
// than the work they share (tens of microseconds against a sub-millisecond image), and their
// thread-local scratch would be rebuilt each time. One job at a time; the calling thread takes part.
// Waiting spins for a few tens of microseconds before it sleeps: an image runs two jobs back to back
// (Gram matrix, then K-Means), and waking a sleeping thread costs about as much as the short job.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hsf_cpu {

class WorkerPool {
 public:
  /** Runs task(0) .. task(parts - 1), part 0 on the calling thread, the rest on helpers. */
  void run(int parts, const std::function<void(int)>& task) {
    if (parts <= 1) {
      task(0);
      return;
    }
    std::lock_guard<std::mutex> one(jobMutex_);  // concurrent callers take turns
    while ((int)threads_.size() < parts - 1) {
      const int index = (int)threads_.size() + 1;
      // the generation it has seen is taken now: the thread may start after this job is published
      const unsigned seen = generation_.load();
      threads_.emplace_back([this, index, seen] { loop(index, seen); });
    }
    task_ = &task;
    parts_ = parts;
    pending_.store(parts - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);  // sleepers check the generation under the mutex
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    task(0);
    if (!spinUntil([this] { return pending_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
    }
  }

  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  template <typename Ready>
  static bool spinUntil(Ready ready) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(40);
    for (int i = 0;; i++) {
      if (ready()) return true;
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
    }
  }

  void loop(int index, unsigned seen) {
    while (true) {
      auto ready = [&] { return stop_.load() || generation_.load() != seen; };
      if (!spinUntil(ready)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, ready);
      }
      if (stop_.load()) return;
      seen = generation_.load();
      if (index >= parts_) continue;  // this job needs fewer helpers
      (*task_)(index);
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::mutex jobMutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* task_ = nullptr;
  int parts_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace hsf_cpu
