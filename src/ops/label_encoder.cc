// ai.onnx.ml LabelEncoder, opsets 2 and 4: keys_{floats,int64s,strings} (or keys_tensor, opset 4) map to
// values_{floats,int64s,strings} (or values_tensor) of the same length; missing keys give default_* of the
// values' type. The input's type is the keys' type, the output's the values'.
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/label_encoder.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// The element types LabelEncoder allows for keys and values.
template <typename F>
bool dispatch_label_type(DType t, F&& f) {
  switch (t) {
    case DType::kString:
      f(TypeTag<std::string>{});
      return true;
    case DType::kI64:
      f(TypeTag<int64_t>{});
      return true;
    case DType::kI32:
      f(TypeTag<int32_t>{});
      return true;
    case DType::kI16:
      f(TypeTag<int16_t>{});
      return true;
    case DType::kF32:
      f(TypeTag<float>{});
      return true;
    case DType::kF64:
      f(TypeTag<double>{});
      return true;
    default:
      return false;
  }
}

Tensor strings_tensor(const std::vector<std::string>& s) {
  Tensor t = Tensor::create(DType::kString, {static_cast<int64_t>(s.size())}).value();
  for (size_t i = 0; i < s.size(); ++i) t.strings()[i] = s[i];
  return t;
}

struct Table {
  Tensor keys, values, fallback;  // fallback: one element of the values' type
};

// keys_<kind> / values_<kind> as a 1-D tensor; exactly one form must be present.
template <typename Ctx>
Expected<Tensor> read_list(const Ctx& ctx, const std::string& prefix) {
  const ir::Node& node = ctx.node();
  std::vector<Tensor> found;
  if (node.has_attr(prefix + "_floats"))
    found.push_back(
        Tensor::from_vector<float>({static_cast<int64_t>(node.attr_floats(prefix + "_floats").size())},
                                   node.attr_floats(prefix + "_floats")));
  if (node.has_attr(prefix + "_int64s"))
    found.push_back(
        Tensor::from_vector<int64_t>({static_cast<int64_t>(node.attr_ints(prefix + "_int64s").size())},
                                     node.attr_ints(prefix + "_int64s")));
  if (node.has_attr(prefix + "_strings"))
    found.push_back(strings_tensor(node.attr_strings(prefix + "_strings")));
  if (const Tensor* t = node.attr_tensor(prefix + "_tensor")) {
    INGOT_ASSIGN_OR_RETURN(Tensor flat, t->reshaped({t->numel()}));
    found.push_back(flat);
  }
  if (found.size() != 1) {
    return ctx.fail("exactly one of " + prefix + "_floats, " + prefix + "_int64s, " + prefix + "_strings, " +
                    prefix + "_tensor must be set, got " + std::to_string(found.size()));
  }
  if (!dispatch_label_type(found[0].dtype(), [](auto) {})) {
    return ctx.fail(prefix + "_tensor has unsupported type " + dtype_name(found[0].dtype()));
  }
  return found[0];
}

template <typename Ctx>
Expected<Table> read_table(const Ctx& ctx) {
  const ir::Node& node = ctx.node();
  Table t;
  INGOT_ASSIGN_OR_RETURN(t.keys, read_list(ctx, "keys"));
  INGOT_ASSIGN_OR_RETURN(t.values, read_list(ctx, "values"));
  if (t.keys.numel() != t.values.numel()) {
    return ctx.fail("keys (" + std::to_string(t.keys.numel()) + ") and values (" +
                    std::to_string(t.values.numel()) + ") differ in length");
  }
  const DType vt = t.values.dtype();
  if (const Tensor* d = node.attr_tensor("default_tensor")) {
    if (d->dtype() != vt || d->numel() != 1) {
      return ctx.fail("default_tensor must hold one value of the values' type " +
                      std::string(dtype_name(vt)));
    }
    t.fallback = d->clone();
  } else {
    INGOT_ASSIGN_OR_RETURN(t.fallback, Tensor::create(vt, {1}));
    switch (vt) {
      case DType::kString:
        t.fallback.strings()[0] = node.attr_string("default_string", "_Unused");
        break;
      case DType::kF32:
        t.fallback.data<float>()[0] = node.attr_float("default_float", -0.0f);
        break;
      case DType::kF64:
        t.fallback.data<double>()[0] = node.attr_float("default_float", -0.0f);
        break;
      case DType::kI64:
        t.fallback.data<int64_t>()[0] = node.attr_int("default_int64", -1);
        break;
      case DType::kI32:
        t.fallback.data<int32_t>()[0] = static_cast<int32_t>(node.attr_int("default_int64", -1));
        break;
      case DType::kI16:
        t.fallback.data<int16_t>()[0] = static_cast<int16_t>(node.attr_int("default_int64", -1));
        break;
      default:
        break;
    }
  }
  return t;
}

Status infer_label_encoder(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  INGOT_ASSIGN_OR_RETURN(Table t, read_table(ctx));
  if (ctx.input_dtype(0) != t.keys.dtype()) {
    return ctx.fail(std::string("input type ") + dtype_name(ctx.input_dtype(0)) +
                    " differs from the keys' type " + dtype_name(t.keys.dtype()));
  }
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, t.values.dtype());
  } else {
    ctx.set_output(0, t.values.dtype(), ctx.input_shape(0));
  }
  return Status::Ok();
}

template <typename T>
const T* elems(const Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t.strings();
  } else {
    return t.data<T>();
  }
}
template <typename T>
T* elems(Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t.strings();
  } else {
    return t.data<T>();
  }
}

Status run_label_encoder(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(Table t, read_table(ctx));
  if (x.dtype() != t.keys.dtype()) {
    return ctx.fail(std::string("input type ") + dtype_name(x.dtype()) + " differs from the keys' type " +
                    dtype_name(t.keys.dtype()));
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, t.values.dtype(), x.dims()));
  dispatch_label_type(x.dtype(), [&](auto ktag) {
    using K = typename decltype(ktag)::type;
    dispatch_label_type(t.values.dtype(), [&](auto vtag) {
      using V = typename decltype(vtag)::type;
      ref::label_encode(elems<K>(x), x.numel(), elems<K>(t.keys), elems<V>(t.values), t.keys.numel(),
                        elems<V>(t.fallback)[0], elems<V>(*y));
    });
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP_DOMAIN("ai.onnx.ml", LabelEncoder, "LabelEncoder", .infer = infer_label_encoder,
                         .run = run_label_encoder);

}  // namespace ingot::ops
