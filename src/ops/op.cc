#include "ops/op.h"

#include <algorithm>
#include <map>
#include <memory>

namespace ingot::ops {
namespace {

std::map<std::pair<std::string, std::string>, OpDef>& registry() {
  static auto* r = new std::map<std::pair<std::string, std::string>, OpDef>();
  return *r;
}

}  // namespace

static std::vector<std::string>& duplicates() {
  static std::vector<std::string> d;
  return d;
}

// The first registration of an op wins; a second one is recorded (a unit test requires there be none),
// since which of two static initialisers runs last is not something the code should depend on.
OpRegistrar::OpRegistrar(const OpDef& def) {
  auto [it, fresh] =
      registry().emplace(std::make_pair(std::string(def.domain), std::string(def.op_type)), def);
  if (!fresh)
    duplicates().push_back((std::string(def.domain).empty() ? "" : std::string(def.domain) + ".") +
                           def.op_type);
}

std::vector<std::string> duplicate_registrations() { return duplicates(); }

const OpDef* find_op(const std::string& domain, const std::string& op_type) {
  const std::string d = domain == "ai.onnx" ? "" : domain;
  auto it = registry().find({d, op_type});
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<const OpDef*> all_ops() {
  std::vector<const OpDef*> v;
  for (auto& [_, def] : registry()) v.push_back(&def);
  return v;
}

void NormalizeContext::set_const_input(size_t index, Tensor t) {
  ir::Value* v = graph_.add_constant(node_.name.empty() ? node_.op_type : node_.name, std::move(t));
  if (node_.inputs.size() <= index) node_.inputs.resize(index + 1, nullptr);
  node_.inputs[index] = v;
  v->consumers.push_back(&node_);
}

void NormalizeContext::move_attr_to_input(const std::string& attr, size_t index, DType dtype) {
  auto it = node_.attrs.find(attr);
  if (it == node_.attrs.end()) return;
  const ir::Attribute& a = it->second;
  Tensor t;
  if (a.kind == ir::Attribute::Kind::kInts || a.kind == ir::Attribute::Kind::kFloats) {
    const size_t n = a.kind == ir::Attribute::Kind::kInts ? a.ints.size() : a.floats.size();
    t = Tensor::create(dtype, {static_cast<int64_t>(n)}).value();
    for (size_t i = 0; i < n; ++i) {
      double x = a.kind == ir::Attribute::Kind::kInts ? static_cast<double>(a.ints[i]) : a.floats[i];
      if (dtype == DType::kI64)
        t.data<int64_t>()[i] = static_cast<int64_t>(x);
      else if (dtype == DType::kF32)
        t.data<float>()[i] = static_cast<float>(x);
    }
  } else if (a.kind == ir::Attribute::Kind::kInt || a.kind == ir::Attribute::Kind::kFloat) {
    t = Tensor::create(dtype, {}).value();
    double x = a.kind == ir::Attribute::Kind::kInt ? static_cast<double>(a.i) : a.f;
    if (dtype == DType::kI64)
      t.data<int64_t>()[0] = static_cast<int64_t>(x);
    else if (dtype == DType::kF32)
      t.data<float>()[0] = static_cast<float>(x);
  } else {
    return;
  }
  node_.attrs.erase(it);
  node_.inputs_from_attrs[attr] = index;
  set_const_input(index, std::move(t));
}

}  // namespace ingot::ops
