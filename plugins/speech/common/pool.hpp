// speech/common/pool.hpp — a mutex-guarded free list of engine objects
// (pocketsphinx decoders) that are expensive to build and not thread-safe.
//
// WHY: a decoder must never be used by two threads at once, yet one decoder
// per stage would serialise every turn. The pool hands each process() call
// its own decoder, creating one lazily only when all existing ones are busy,
// so the plugin can declare max_concurrency = 0 and memory grows only with
// the concurrency actually seen.
//
// Lifecycle: construct with a factory; lease() any number of times; the
// pool must outlive every Lease; destroying the pool frees the idle objects.
// Threading: lease() and the Lease destructor are thread-safe. The factory
// runs outside the lock (building a decoder takes tens of milliseconds).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace cascade::speech {

template <class T, class Deleter = std::default_delete<T>>
class Pool {
 public:
  using Ptr = std::unique_ptr<T, Deleter>;
  using Factory = std::function<Ptr()>;

  // Exclusive use of one object until destroyed; then it returns to the pool.
  class Lease {
   public:
    Lease(Pool* pool, Ptr obj) : pool_(pool), obj_(std::move(obj)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (obj_) pool_->give_back(std::move(obj_));
    }
    T* get() const noexcept { return obj_.get(); }
    // Drop the object instead of returning it (e.g. after an engine error
    // that may have left it in a bad state).
    void discard() noexcept { obj_.reset(); }

   private:
    Pool* pool_;
    Ptr obj_;
  };

  explicit Pool(Factory factory) : factory_(std::move(factory)) {}

  // Puts an already built object in the free list (e.g. the one open()
  // built to validate the configuration).
  void add(Ptr obj) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(obj));
  }

  Lease lease() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        Ptr p = std::move(free_.back());
        free_.pop_back();
        return Lease(this, std::move(p));
      }
    }
    return Lease(this, factory_());
  }

  [[nodiscard]] size_t idle() const {
    std::lock_guard lock(mutex_);
    return free_.size();
  }

 private:
  void give_back(Ptr obj) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(obj));
  }
  Factory factory_;
  mutable std::mutex mutex_;
  std::vector<Ptr> free_;
};

}  // namespace cascade::speech
