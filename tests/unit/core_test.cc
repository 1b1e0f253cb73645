#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "ingot/dtype.h"
#include "ingot/tensor.h"

namespace ingot {
namespace {

TEST(DType, HalfRoundTripsEveryFiniteHalf) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const uint16_t h = static_cast<uint16_t>(bits);
    const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    const float f = half_to_float(h);
    if (is_nan) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    EXPECT_EQ(float_to_half(f), h) << "bits " << bits;
  }
}

TEST(DType, HalfRoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa.
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
}

TEST(DType, BFloat16MatchesTruncationWithRounding) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1e6f, 1e6f);
  for (int i = 0; i < 10000; ++i) {
    const float f = dist(rng);
    const float r = bf16_to_float(float_to_bf16(f));
    EXPECT_LE(std::fabs(r - f), std::fabs(f) * (1.0f / 256)) << f;
  }
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(Tensor, CheckedNumelRejectsOverflowAndNegatives) {
  EXPECT_EQ(*checked_numel({2, 3, 4}), 24);
  EXPECT_EQ(*checked_numel({}), 1);
  EXPECT_EQ(*checked_numel({5, 0, 7}), 0);
  EXPECT_FALSE(checked_numel({int64_t{1} << 40, int64_t{1} << 40}).ok());
  EXPECT_FALSE(checked_numel({3, -1}).ok());
}

TEST(Tensor, CreateRefusesTensorsOverTheCap) {
  const int64_t old = max_tensor_bytes();
  set_max_tensor_bytes(1024);
  auto t = Tensor::create(DType::kF32, {16, 17});
  set_max_tensor_bytes(old);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("16x17"), std::string::npos);
}

TEST(Tensor, StorageIsAlignedZeroedAndShared) {
  Tensor t = Tensor::create(DType::kF32, {3, 5}).value();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
  Tensor view = t.reshaped({15}).value();
  t.data<float>()[7] = 2.5f;
  EXPECT_EQ(view.data<float>()[7], 2.5f);
  Tensor copy = t.clone();
  t.data<float>()[7] = 1.0f;
  EXPECT_EQ(copy.data<float>()[7], 2.5f);
  EXPECT_FALSE(t.reshaped({4, 4}).ok());
}

TEST(Tensor, ToI64ReadsEveryIntegerType) {
  Tensor a = Tensor::from_vector<int32_t>({3}, {-1, 5, 7});
  EXPECT_EQ(a.to_i64_vector(), (std::vector<int64_t>{-1, 5, 7}));
  Tensor b = Tensor::from_vector<uint8_t>({2}, {200, 3});
  EXPECT_EQ(b.to_i64_vector(), (std::vector<int64_t>{200, 3}));
}

}  // namespace
}  // namespace ingot
