#include "pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using cascade::speech::Pool;

TEST(Pool, ReusesAReturnedObjectInsteadOfBuildingAnother) {
  int built = 0;
  Pool<int> pool([&] { return std::make_unique<int>(++built); });
  { auto a = pool.lease(); }
  { auto b = pool.lease(); EXPECT_EQ(*b.get(), 1); }
  EXPECT_EQ(built, 1);
}

TEST(Pool, BuildsOneObjectPerConcurrentLease) {
  std::atomic<int> built{0};
  Pool<int> pool([&] { return std::make_unique<int>(++built); });
  auto a = pool.lease();
  auto b = pool.lease();
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(built.load(), 2);
}

TEST(Pool, DiscardedObjectIsNotReturned) {
  Pool<int> pool([] { return std::make_unique<int>(0); });
  {
    auto a = pool.lease();
    a.discard();
  }
  EXPECT_EQ(pool.idle(), 0u);
}
