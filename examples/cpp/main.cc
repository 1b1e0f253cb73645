// Builds an engine from an ONNX model (or loads an engine file), runs it once on a fixed input and
// prints each output's shape and first values: ingot's C++ API as an installed library uses it.
//
//   ingot_example MODEL.onnx|M.ingot [--save M.ingot]
//
// Every input gets the values ((i % 17) - 8) / 8 (i: the element's flat index), dynamic dims 1.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "ingot/engine.h"

namespace {

int fail(const ingot::Status& st) {
  std::fprintf(stderr, "ingot_example: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--save") == 0)) {
    std::fprintf(stderr, "usage: %s MODEL.onnx|M.ingot [--save M.ingot]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const bool is_engine = path.size() > 6 && path.compare(path.size() - 6, 6, ".ingot") == 0;
  auto engine = is_engine ? ingot::Engine::load(path) : ingot::Engine::from_onnx_file(path);
  if (!engine.ok()) return fail(engine.status());
  if (argc == 4) {
    ingot::Status st = (*engine)->save(argv[3]);
    if (!st.ok()) return fail(st);
  }

  std::map<std::string, ingot::Tensor> inputs;
  for (const ingot::TensorInfo& info : (*engine)->inputs()) {
    if (info.dtype != ingot::DType::kF32) {
      return fail(ingot::unsupported("input '" + info.name + "' is " + ingot::dtype_name(info.dtype) +
                                     "; this example fills float32 inputs only"));
    }
    ingot::Dims dims = info.dims;
    for (int64_t& d : dims)
      if (d < 0) d = 1;
    auto t = ingot::Tensor::create(ingot::DType::kF32, dims);
    if (!t.ok()) return fail(t.status());
    for (int64_t i = 0; i < t->numel(); ++i) t->data<float>()[i] = static_cast<float>(i % 17 - 8) / 8.0f;
    inputs[info.name] = *t;
  }

  auto ctx = (*engine)->create_context();
  auto outputs = ctx->run(inputs);
  if (!outputs.ok()) return fail(outputs.status());
  for (const auto& [name, t] : *outputs) {
    std::printf("%s %s [%s]:", name.c_str(), ingot::dtype_name(t.dtype()),
                ingot::dims_to_string(t.dims()).c_str());
    for (int64_t i = 0; i < t.numel() && i < 10; ++i) std::printf(" %.9g", t.get_f64(i));
    std::printf("\n");
  }
  return 0;
}
