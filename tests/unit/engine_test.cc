#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "ingot/engine.h"
#include "onnx/onnx-ml.pb.h"

namespace ingot {
namespace {

// y = Relu(x + w), w an initializer, x [batch, 4] with a symbolic batch.
std::string add_relu_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* x = g->add_input();
  x->set_name("x");
  auto* tt = x->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  for (float v : {0.5f, -0.25f, 1.0f, -2.0f}) w->add_float_data(v);
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("x");
  add->add_input("w");
  add->add_output("s");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("s");
  relu->add_output("y");
  g->add_output()->set_name("y");
  return m.SerializeAsString();
}

Tensor random_input(int64_t batch, uint32_t seed) {
  Tensor t = Tensor::create(DType::kF32, {batch, 4}).value();
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

TEST(Engine, RunsAndReportsInputsAndOutputs) {
  auto engine = Engine::from_onnx_bytes(add_relu_model());
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  ASSERT_EQ((*engine)->inputs().size(), 1u);
  EXPECT_EQ((*engine)->inputs()[0].dims, (Dims{-1, 4}));
  EXPECT_EQ((*engine)->inputs()[0].dim_names[0], "batch");
  Tensor x = random_input(3, 1);
  auto out = (*engine)->create_context()->run({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const Tensor& y = out->at("y");
  ASSERT_EQ(y.dims(), (Dims{3, 4}));
  const float w[4] = {0.5f, -0.25f, 1.0f, -2.0f};
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(y.data<float>()[i], std::max(0.0f, x.data<float>()[i] + w[i % 4]));
}

TEST(Engine, RefusesBadInputs) {
  auto engine = Engine::from_onnx_bytes(add_relu_model()).value();
  auto ctx = engine->create_context();
  EXPECT_NE(ctx->run({}).status().message().find("missing input 'x'"), std::string::npos);
  auto wrong_shape = ctx->run({{"x", Tensor::create(DType::kF32, {2, 5}).value()}});
  EXPECT_NE(wrong_shape.status().message().find("2x5"), std::string::npos);
  auto wrong_type = ctx->run({{"x", Tensor::create(DType::kI32, {2, 4}).value()}});
  EXPECT_NE(wrong_type.status().message().find("int32"), std::string::npos);
  auto unknown = ctx->run({{"x", random_input(1, 2)}, {"z", random_input(1, 2)}});
  EXPECT_NE(unknown.status().message().find("unknown input 'z'"), std::string::npos);
}

TEST(Engine, RefusesGarbage) {
  auto e = Engine::from_onnx_bytes(std::string("\x08\x07garbage-not-a-model", 21));
  EXPECT_FALSE(e.ok());
  EXPECT_FALSE(Engine::from_onnx_bytes("").ok());
  EXPECT_FALSE(Engine::from_onnx_file("/nonexistent/model.onnx").ok());
}

TEST(Engine, ContextsInSeveralThreadsAgree) {
  auto engine = Engine::from_onnx_bytes(add_relu_model()).value();
  Tensor x = random_input(64, 7);
  auto expected = engine->create_context()->run({{"x", x}}).value().at("y");
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto ctx = engine->create_context();
      for (int i = 0; i < 50; ++i) {
        auto y = ctx->run({{"x", x}}).value().at("y");
        if (std::memcmp(y.raw(), expected.raw(), y.nbytes()) != 0) mismatches++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Engine, ContextKeepsEngineAlive) {
  std::unique_ptr<ExecutionContext> ctx;
  {
    auto engine = Engine::from_onnx_bytes(add_relu_model()).value();
    ctx = engine->create_context();
  }
  EXPECT_TRUE(ctx->run({{"x", random_input(2, 3)}}).ok());
}

}  // namespace
}  // namespace ingot

namespace ingot {
namespace {

TEST(EngineFile, SaveLoadRunsIdenticallyInManyThreads) {
  auto built = Engine::from_onnx_bytes(add_relu_model(), BuildConfig{.profile = {{"x", {{1, 4}, {8, 4}, {64, 4}}}}}).value();
  const std::string path = ::testing::TempDir() + "/add_relu.ingot";
  ASSERT_TRUE(built->save(path).ok());
  auto loaded = Engine::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto engine = *loaded;
  // Each thread runs its own contexts on its own inputs (different batch sizes) and checks every result
  // against what the in-memory engine computed.
  constexpr int kThreads = 4;
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(random_input(8 * (t + 1), 100 + t));
    expected.push_back(built->create_context()->run({{"x", inputs.back()}}).value().at("y"));
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto a = engine->create_context();
      auto b = engine->create_context();
      for (int i = 0; i < 100; ++i) {
        auto y = (i % 2 ? a : b)->run({{"x", inputs[t]}});
        if (!y.ok()) {
          failures++;
          continue;
        }
        const Tensor& out = y->at("y");
        if (out.dims() != expected[t].dims() || std::memcmp(out.raw(), expected[t].raw(), out.nbytes()) != 0) mismatches++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  // Outside the profile: refused with the range.
  auto big = engine->create_context()->run({{"x", random_input(65, 1)}});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("outside the engine's profile"), std::string::npos);
}

}  // namespace
}  // namespace ingot
