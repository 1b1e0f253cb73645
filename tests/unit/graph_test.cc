#include <gtest/gtest.h>

#include "ir/graph.h"

namespace ingot::ir {
namespace {

TEST(Graph, TopologicalSortOrdersProducersFirst) {
  Graph g;
  Value* a = g.add_value("a").value();
  Value* b = g.add_value("b").value();
  Value* c = g.add_value("c").value();
  g.inputs = {a};
  auto n2 = std::make_unique<Node>();
  n2->name = "second";
  n2->op_type = "Relu";
  n2->inputs = {b};
  n2->outputs = {c};
  auto n1 = std::make_unique<Node>();
  n1->name = "first";
  n1->op_type = "Relu";
  n1->inputs = {a};
  n1->outputs = {b};
  g.add_node(std::move(n2));
  g.add_node(std::move(n1));
  ASSERT_TRUE(g.topological_sort().ok());
  EXPECT_EQ(g.nodes()[0]->name, "first");
  EXPECT_EQ(g.nodes()[1]->name, "second");
}

TEST(Graph, CycleIsAnErrorNamingANode) {
  Graph g;
  Value* a = g.add_value("a").value();
  Value* b = g.add_value("b").value();
  auto n1 = std::make_unique<Node>();
  n1->name = "n1";
  n1->op_type = "Relu";
  n1->inputs = {b};
  n1->outputs = {a};
  auto n2 = std::make_unique<Node>();
  n2->name = "n2";
  n2->op_type = "Relu";
  n2->inputs = {a};
  n2->outputs = {b};
  g.add_node(std::move(n1));
  g.add_node(std::move(n2));
  Status st = g.topological_sort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos);
  EXPECT_NE(st.message().find("node 'n"), std::string::npos);
}

TEST(Graph, DuplicateValueNameIsRefused) {
  Graph g;
  ASSERT_TRUE(g.add_value("x").ok());
  EXPECT_FALSE(g.add_value("x").ok());
}

}  // namespace
}  // namespace ingot::ir

#include "ops/op.h"

namespace ingot {
namespace {

TEST(OpRegistry, EveryOpIsRegisteredOnce) {
  EXPECT_TRUE(ops::duplicate_registrations().empty())
      << "registered twice: " << ::testing::PrintToString(ops::duplicate_registrations());
  EXPECT_NE(ops::find_op("", "Conv"), nullptr);
  EXPECT_NE(ops::find_op("ingot", "FusedConv"), nullptr);
}

}  // namespace
}  // namespace ingot
