#include "ingot/simplify.h"

#include <functional>

#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "passes/pass.h"

namespace ingot {
namespace {

void count_ops(const ir::Graph& g, std::map<std::string, int64_t>& ops, int64_t& total) {
  for (const auto& n : g.nodes()) {
    ops[n->op_type]++;
    total++;
  }
}

// Simplifies `model` in place; `in_path` names it in errors.
Expected<SimplifyReport> simplify_model(onnx_import::Model& model, const std::string& in_path,
                                        const SimplifyOptions& options) {
  ir::Graph& g = *model.graph;
  SimplifyReport report;
  // Count what the file holds: Constant nodes were turned into values at import.
  count_ops(g, report.ops_before, report.nodes_before);
  for (const auto& [name, dims] : options.input_shapes) {
    ir::Value* v = g.find_local(name);
    if (!v || std::find(g.inputs.begin(), g.inputs.end(), v) == g.inputs.end()) {
      return invalid_argument(in_path + ": --input-shape names '" + name + "', which is not a model input");
    }
    if (v->type.has_shape && v->type.shape.size() != dims.size()) {
      return invalid_argument(in_path + ": input '" + name + "' has rank " +
                              std::to_string(v->type.shape.size()) + ", but the shape given is " +
                              dims_to_string(dims));
    }
    v->type.has_shape = true;
    v->type.shape = ir::to_sym_shape(dims);
  }
  passes::PipelineOptions po;
  po.disabled = options.disabled_passes;
  po.dump_ir_after = options.dump_ir_after;
  po.dump_to = options.dump_to;
  po.pass_options.fold_max_elements = options.fold_max_elements;
  for (const auto& name : options.disabled_passes) {
    bool known = false;
    for (const auto& p : passes::simplify_passes()) known |= name == p.name;
    if (!known) return Status(StatusCode::kUsage, "--disable-pass: no pass named '" + name + "'");
  }
  INGOT_RETURN_IF_ERROR(passes::run_pipeline(g, passes::simplify_passes(), po).with_context(in_path));
  count_ops(g, report.ops_after, report.nodes_after);
  return report;
}

onnx_import::ExportOptions export_options(const onnx_import::Model& model) {
  onnx_import::ExportOptions eo;
  eo.ir_version = std::max<int64_t>(model.ir_version, 7);
  return eo;
}

}  // namespace

Expected<SimplifyReport> simplify_onnx_file(const std::string& in_path, const std::string& out_path,
                                            const SimplifyOptions& options) {
  INGOT_ASSIGN_OR_RETURN(onnx_import::Model model, onnx_import::import_file(in_path));
  INGOT_ASSIGN_OR_RETURN(SimplifyReport report, simplify_model(model, in_path, options));
  INGOT_RETURN_IF_ERROR(onnx_import::export_model_file(*model.graph, out_path, export_options(model)));
  return report;
}

Expected<SimplifiedModel> simplify_onnx_bytes(const std::string& bytes, const SimplifyOptions& options) {
  const std::string label = "<memory>";
  INGOT_ASSIGN_OR_RETURN(onnx_import::Model model, onnx_import::import_bytes(bytes, "", label));
  SimplifiedModel out;
  INGOT_ASSIGN_OR_RETURN(out.report, simplify_model(model, label, options));
  INGOT_ASSIGN_OR_RETURN(out.onnx, onnx_import::export_model(*model.graph, export_options(model)));
  return out;
}

std::vector<std::pair<std::string, std::string>> simplify_pass_names() {
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& p : passes::simplify_passes()) v.emplace_back(p.name, p.description);
  return v;
}

}  // namespace ingot
