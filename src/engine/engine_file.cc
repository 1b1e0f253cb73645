#include "engine/engine_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <algorithm>

#include <cstring>
#include <fstream>

#include "core/atomic_file.h"
#include "core/platform.h"
#include "ingot/engine.h"
#include "ops/op.h"
#include "plan_generated.h"

namespace ingot::engine {
namespace {

constexpr size_t kWeightAlign = 64;
constexpr size_t kVersionField = 32, kFingerprintField = 384;
// Header field offsets.
constexpr size_t kOffMagic = 0, kOffFormat = 8, kOffHeaderBytes = 12, kOffFileBytes = 16, kOffPlanOffset = 24,
                 kOffPlanBytes = 32, kOffWeightsOffset = 40, kOffWeightsBytes = 48, kOffChecksum = 56,
                 kOffVersion = 64, kOffFingerprint = 96;

template <typename T>
void put(std::string& buf, size_t off, T v) {
  std::memcpy(buf.data() + off, &v, sizeof(T));
}
template <typename T>
T get(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof(T));
  return v;
}

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

std::string fixed_string(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len]) ++len;
  return std::string(reinterpret_cast<const char*>(p), len);
}

// ---- writing ----

class Writer {
 public:
  explicit Writer(const Plan& plan) : plan_(plan) {}

  Expected<std::string> run() {
    std::vector<flatbuffers::Offset<fb::Layer>> layers;
    // Attribute tensors become extra weight tensors after the plan's own.
    extra_ = plan_.tensors.size();
    for (const PlanLayer& l : plan_.layers) {
      INGOT_ASSIGN_OR_RETURN(auto off, layer(l));
      layers.push_back(off);
    }
    std::vector<flatbuffers::Offset<fb::TensorDesc>> tensors;
    for (size_t i = 0; i < plan_.tensors.size(); ++i) {
      INGOT_ASSIGN_OR_RETURN(auto off, tensor(plan_.tensors[i]));
      tensors.push_back(off);
    }
    for (const PlanTensor& t : attr_tensors_) {
      INGOT_ASSIGN_OR_RETURN(auto off, tensor(t));
      tensors.push_back(off);
    }
    std::vector<flatbuffers::Offset<fb::ProfileDim>> profile;
    for (const ProfileEntry& p : plan_.profile) {
      profile.push_back(fb::CreateProfileDim(fbb_, fbb_.CreateString(p.input), fbb_.CreateVector(p.min),
                                             fbb_.CreateVector(p.opt), fbb_.CreateVector(p.max)));
    }
    flatbuffers::Offset<fb::AccuracyReport> accuracy;
    if (plan_.accuracy.measured) {
      std::vector<flatbuffers::Offset<fb::KeptLayer>> kept;
      for (const auto& [name, sensitivity] : plan_.accuracy.kept)
        kept.push_back(fb::CreateKeptLayer(fbb_, fbb_.CreateString(name), sensitivity));
      const AccuracyReport& a = plan_.accuracy;
      accuracy = fb::CreateAccuracyReport(fbb_, a.budget, a.error_before, a.error, a.batches,
                                          fbb_.CreateVector(kept));
    }
    auto source = fbb_.CreateString(plan_.source);
    auto tv = fbb_.CreateVector(tensors);
    auto lv = fbb_.CreateVector(layers);
    auto iv = fbb_.CreateVector(plan_.inputs);
    auto ov = fbb_.CreateVector(plan_.outputs);
    auto pv = fbb_.CreateVector(profile);
    fb::PlanBuilder pb(fbb_);
    pb.add_source(source);
    pb.add_tensors(tv);
    pb.add_layers(lv);
    pb.add_inputs(iv);
    pb.add_outputs(ov);
    pb.add_profile(pv);
    pb.add_arena_bytes(plan_.arena_bytes);
    pb.add_naive_bytes(plan_.naive_bytes);
    if (plan_.accuracy.measured) pb.add_accuracy(accuracy);
    fb::FinishPlanBuffer(fbb_, pb.Finish());

    const size_t plan_off = kHeaderBytes;
    const size_t plan_bytes = fbb_.GetSize();
    const size_t weights_off = align_up(plan_off + plan_bytes, kWeightAlign);
    const size_t file_bytes = weights_off + weights_.size();
    std::string out(file_bytes, '\0');
    std::memcpy(out.data() + kOffMagic, kEngineMagic, 8);
    put<uint32_t>(out, kOffFormat, kEngineFormatVersion);
    put<uint32_t>(out, kOffHeaderBytes, kHeaderBytes);
    put<uint64_t>(out, kOffFileBytes, file_bytes);
    put<uint64_t>(out, kOffPlanOffset, plan_off);
    put<uint64_t>(out, kOffPlanBytes, plan_bytes);
    put<uint64_t>(out, kOffWeightsOffset, weights_off);
    put<uint64_t>(out, kOffWeightsBytes, weights_.size());
    const std::string v = ingot::version();
    const std::string fp = plan_.platform.empty() ? cpu_fingerprint() : plan_.platform;
    std::memcpy(out.data() + kOffVersion, v.data(), std::min(v.size(), kVersionField - 1));
    std::memcpy(out.data() + kOffFingerprint, fp.data(), std::min(fp.size(), kFingerprintField - 1));
    std::memcpy(out.data() + plan_off, fbb_.GetBufferPointer(), plan_bytes);
    if (!weights_.empty()) std::memcpy(out.data() + weights_off, weights_.data(), weights_.size());
    put<uint64_t>(out, kOffChecksum, XXH3_64bits(out.data() + kHeaderBytes, file_bytes - kHeaderBytes));
    return out;
  }

 private:
  Expected<flatbuffers::Offset<fb::TensorDesc>> tensor(const PlanTensor& t) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> syms, strs;
    for (const auto& s : t.dim_symbols) syms.push_back(fbb_.CreateString(s));
    int64_t weight_off = -1;
    if (t.kind == TensorKind::kWeight) {
      if (t.dtype == DType::kString) {
        for (int64_t i = 0; i < t.weight.numel(); ++i)
          strs.push_back(fbb_.CreateString(t.weight.strings()[i]));
      } else {
        weights_.resize(align_up(weights_.size(), kWeightAlign), '\0');
        weight_off = static_cast<int64_t>(weights_.size());
        weights_.append(static_cast<const char*>(t.weight.raw()), t.weight.nbytes());
      }
    }
    auto name = fbb_.CreateString(t.name);
    auto dims = fbb_.CreateVector(t.dims);
    auto symv = fbb_.CreateVector(syms);
    auto strv = fbb_.CreateVector(strs);
    fb::TensorDescBuilder b(fbb_);
    b.add_name(name);
    b.add_dtype(static_cast<int32_t>(t.dtype));
    b.add_kind(static_cast<fb::TensorKind>(t.kind));
    b.add_rank_known(t.rank_known);
    b.add_dims(dims);
    b.add_dim_symbols(symv);
    b.add_max_bytes(t.max_bytes);
    b.add_arena_offset(t.arena_offset);
    b.add_alias_of(t.alias_of);
    b.add_weight_offset(weight_off);
    b.add_strings(strv);
    return b.Finish();
  }

  int32_t attr_tensor(const Tensor& value, const std::string& name) {
    PlanTensor t;
    t.name = name;
    t.kind = TensorKind::kWeight;
    t.dtype = value.dtype();
    t.dims = value.dims();
    t.dim_symbols.assign(t.dims.size(), "");
    t.weight = value;
    attr_tensors_.push_back(std::move(t));
    return static_cast<int32_t>(extra_ + attr_tensors_.size() - 1);
  }

  Expected<flatbuffers::Offset<fb::Layer>> layer(const PlanLayer& l) {
    std::vector<flatbuffers::Offset<fb::Attr>> attrs;
    for (const auto& [name, a] : l.attrs) {
      if (!attribute_serializable(a)) {
        return unsupported(
            "layer '" + l.name + "' (" + l.op_type + ") has attribute '" + name +
            "' holding a subgraph or type; engines with If/Loop/Scan cannot be saved yet (run the "
            "ONNX file directly)");
      }
      std::vector<int32_t> tensor_ids;
      if (a.kind == ir::Attribute::Kind::kTensor) tensor_ids.push_back(attr_tensor(a.t, l.name + "." + name));
      for (size_t i = 0; i < a.tensors.size(); ++i)
        tensor_ids.push_back(attr_tensor(a.tensors[i], l.name + "." + name));
      auto an = fbb_.CreateString(name);
      auto as = fbb_.CreateString(a.s);
      auto af = fbb_.CreateVector(a.floats);
      auto ai = fbb_.CreateVector(a.ints);
      auto ass = fbb_.CreateVectorOfStrings(a.strings);
      auto at = fbb_.CreateVector(tensor_ids);
      fb::AttrBuilder b(fbb_);
      b.add_name(an);
      b.add_kind(kind_of(a.kind));
      b.add_f(a.f);
      b.add_i(a.i);
      b.add_s(as);
      b.add_floats(af);
      b.add_ints(ai);
      b.add_strings(ass);
      b.add_tensors(at);
      attrs.push_back(b.Finish());
    }
    auto name = fbb_.CreateString(l.name);
    auto domain = fbb_.CreateString(l.domain);
    auto op = fbb_.CreateString(l.op_type);
    auto av = fbb_.CreateVector(attrs);
    auto in = fbb_.CreateVector(l.inputs);
    auto out = fbb_.CreateVector(l.outputs);
    auto tactic = fbb_.CreateString(l.tactic);
    auto prec = fbb_.CreateString(l.precision);
    auto fused = fbb_.CreateVectorOfStrings(l.fused);
    auto note = fbb_.CreateString(l.precision_note);
    fb::LayerBuilder b(fbb_);
    b.add_name(name);
    b.add_domain(domain);
    b.add_op_type(op);
    b.add_opset(l.opset);
    b.add_attrs(av);
    b.add_inputs(in);
    b.add_outputs(out);
    b.add_tactic(tactic);
    b.add_precision(prec);
    b.add_fused(fused);
    b.add_in_place_input(l.in_place_input);
    b.add_precision_note(note);
    return b.Finish();
  }

  static fb::AttrKind kind_of(ir::Attribute::Kind k) {
    using K = ir::Attribute::Kind;
    switch (k) {
      case K::kFloat:
        return fb::AttrKind::Float;
      case K::kInt:
        return fb::AttrKind::Int;
      case K::kString:
        return fb::AttrKind::String;
      case K::kTensor:
        return fb::AttrKind::Tensor;
      case K::kFloats:
        return fb::AttrKind::Floats;
      case K::kInts:
        return fb::AttrKind::Ints;
      case K::kStrings:
        return fb::AttrKind::Strings;
      default:
        return fb::AttrKind::Tensors;
    }
  }

  const Plan& plan_;
  flatbuffers::FlatBufferBuilder fbb_{1 << 16};
  std::string weights_;
  size_t extra_ = 0;
  std::vector<PlanTensor> attr_tensors_;
};

// ---- reading ----

class Reader {
 public:
  Reader(const uint8_t* weights, size_t weights_bytes, std::shared_ptr<const void> owner, std::string label)
      : weights_(weights),
        weights_bytes_(weights_bytes),
        owner_(std::move(owner)),
        label_(std::move(label)) {}

  Expected<Plan> run(const fb::Plan& p) {
    Plan plan;
    plan.source = p.source() ? p.source()->str() : "";
    if (const fb::AccuracyReport* a = p.accuracy()) {
      plan.accuracy.measured = true;
      plan.accuracy.budget = a->budget();
      plan.accuracy.error_before = a->error_before();
      plan.accuracy.error = a->error();
      plan.accuracy.batches = a->batches();
      if (a->kept())
        for (const fb::KeptLayer* k : *a->kept())
          plan.accuracy.kept.emplace_back(k->name() ? k->name()->str() : "", k->sensitivity());
    }
    if (!p.tensors() || !p.layers() || !p.inputs() || !p.outputs()) return bad("the plan lacks its tables");
    plan.arena_bytes = p.arena_bytes();
    plan.naive_bytes = p.naive_bytes();
    if (plan.arena_bytes < 0 || plan.arena_bytes > max_tensor_bytes() || plan.naive_bytes < 0) {
      return bad("arena size " + std::to_string(plan.arena_bytes) + " is out of range");
    }
    const auto n = static_cast<int64_t>(p.tensors()->size());
    for (const fb::TensorDesc* t : *p.tensors()) {
      INGOT_ASSIGN_OR_RETURN(PlanTensor pt, tensor(*t, plan.arena_bytes));
      plan.tensors.push_back(std::move(pt));
    }
    for (int64_t i = 0; i < n; ++i) {
      int32_t a = plan.tensors[i].alias_of;
      if (a == -1) continue;
      if (a < 0 || a >= n || a == i) return bad("tensor " + std::to_string(i) + " aliases a bad tensor id");
      for (int steps = 0; a != -1; ++steps) {
        if (steps > n || a < 0 || a >= n)
          return bad("tensor " + std::to_string(i) + " has a cyclic or bad alias chain");
        a = plan.tensors[a].alias_of;
      }
    }
    auto id_list = [&](const flatbuffers::Vector<int32_t>* v, std::vector<int32_t>& out, bool optional,
                       const std::string& what) -> Status {
      if (!v) return Status::Ok();
      for (int32_t id : *v) {
        if (id < -1 || id >= n || (id == -1 && !optional))
          return bad(what + " names tensor id " + std::to_string(id));
        out.push_back(id);
      }
      return Status::Ok();
    };
    INGOT_RETURN_IF_ERROR(id_list(p.inputs(), plan.inputs, false, "the input list"));
    INGOT_RETURN_IF_ERROR(id_list(p.outputs(), plan.outputs, false, "the output list"));
    // Every layer reads only tensors that exist before it: inputs, weights, earlier layers' outputs.
    std::vector<bool> ready(n, false);
    for (int64_t i = 0; i < n; ++i) ready[i] = plan.tensors[i].kind == TensorKind::kWeight;
    for (int32_t id : plan.inputs) {
      if (plan.tensors[id].kind != TensorKind::kInput)
        return bad("input list names a tensor that is not an input");
      ready[id] = true;
    }
    for (const fb::Layer* l : *p.layers()) {
      PlanLayer pl;
      pl.name = l->name() ? l->name()->str() : "";
      pl.domain = l->domain() ? l->domain()->str() : "";
      pl.op_type = l->op_type() ? l->op_type()->str() : "";
      pl.opset = l->opset();
      const std::string who = "layer '" + pl.name + "' (" + pl.op_type + ")";
      const ops::OpDef* def = ops::find_op(pl.domain, pl.op_type);
      if (!def || !def->run) return bad(who + " uses an op this ingot does not have");
      pl.tactic = l->tactic() ? l->tactic()->str() : "";
      pl.precision = l->precision() ? l->precision()->str() : "";
      pl.precision_note = l->precision_note() ? l->precision_note()->str() : "";
      if (l->fused())
        for (const auto* s : *l->fused()) pl.fused.push_back(s->str());
      INGOT_RETURN_IF_ERROR(id_list(l->inputs(), pl.inputs, true, who));
      INGOT_RETURN_IF_ERROR(id_list(l->outputs(), pl.outputs, true, who));
      for (int32_t id : pl.inputs)
        if (id >= 0 && !ready[id])
          return bad(who + " reads tensor " + std::to_string(id) + " before it is computed");
      for (int32_t id : pl.outputs) {
        if (id < 0) continue;
        const TensorKind k = plan.tensors[id].kind;
        if (ready[id] || (k != TensorKind::kActivation && k != TensorKind::kOutput)) {
          return bad(who + " writes tensor " + std::to_string(id) + ", which is not a fresh activation");
        }
        ready[id] = true;
      }
      pl.in_place_input = l->in_place_input();
      if (pl.in_place_input < -1 || pl.in_place_input >= static_cast<int32_t>(pl.inputs.size())) {
        return bad(who + " has a bad in-place input");
      }
      if (l->attrs()) {
        for (const fb::Attr* a : *l->attrs()) {
          INGOT_ASSIGN_OR_RETURN(auto attr, attribute(*a, plan, who));
          pl.attrs[attr.first] = std::move(attr.second);
        }
      }
      plan.layers.push_back(std::move(pl));
    }
    for (int32_t id : plan.outputs)
      if (!ready[id]) return bad("output tensor " + std::to_string(id) + " is never computed");
    if (p.profile()) {
      for (const fb::ProfileDim* d : *p.profile()) {
        ProfileEntry e;
        e.input = d->input() ? d->input()->str() : "";
        INGOT_ASSIGN_OR_RETURN(e.min, longs(d->min(), "profile"));
        INGOT_ASSIGN_OR_RETURN(e.opt, longs(d->opt(), "profile"));
        INGOT_ASSIGN_OR_RETURN(e.max, longs(d->max(), "profile"));
        if (e.min.size() != e.max.size() || e.opt.size() != e.max.size())
          return bad("profile of '" + e.input + "' is malformed");
        plan.profile.push_back(std::move(e));
      }
    }
    plan.keep_alive.push_back(owner_);
    return plan;
  }

 private:
  Status bad(const std::string& msg) const {
    return invalid_argument(label_ + ": corrupted engine file: " + msg + " (rebuild the engine)");
  }

  // A vector of 64-bit integers. The verifier only checks 4-byte alignment of a vector; one a hostile file
  // places off an 8-byte boundary is refused rather than read.
  Expected<std::vector<int64_t>> longs(const flatbuffers::Vector<int64_t>* v, const std::string& what) const {
    if (!v || v->size() == 0) return std::vector<int64_t>{};
    if (reinterpret_cast<uintptr_t>(v->data()) % alignof(int64_t) != 0)
      return bad(what + " has a misaligned list");
    std::vector<int64_t> out(v->size());
    if (!out.empty()) std::memcpy(out.data(), v->data(), out.size() * sizeof(int64_t));
    return out;
  }

  Expected<PlanTensor> tensor(const fb::TensorDesc& t, int64_t arena_bytes) {
    PlanTensor pt;
    pt.name = t.name() ? t.name()->str() : "";
    if (!dtype_is_valid(t.dtype()) || t.dtype() == 0)
      return bad("tensor '" + pt.name + "' has a bad element type");
    pt.dtype = static_cast<DType>(t.dtype());
    const auto kind = static_cast<int>(t.kind());
    if (kind < 0 || kind > 3) return bad("tensor '" + pt.name + "' has a bad kind");
    pt.kind = static_cast<TensorKind>(kind);
    pt.rank_known = t.rank_known();
    INGOT_ASSIGN_OR_RETURN(pt.dims, longs(t.dims(), "tensor '" + pt.name + "'"));
    if (t.dim_symbols())
      for (const auto* s : *t.dim_symbols()) pt.dim_symbols.push_back(s->str());
    pt.dim_symbols.resize(pt.dims.size());
    for (int64_t d : pt.dims)
      if (d < -1) return bad("tensor '" + pt.name + "' has a negative dimension");
    if (std::all_of(pt.dims.begin(), pt.dims.end(), [](int64_t d) { return d >= 0; })) {
      const Status size = check_tensor_bytes(pt.dtype, pt.dims);
      if (!size.ok()) return bad("tensor '" + pt.name + "': " + size.message());
    }
    pt.max_bytes = t.max_bytes();
    pt.arena_offset = t.arena_offset();
    pt.alias_of = t.alias_of();
    if (pt.arena_offset != -1) {
      if (pt.arena_offset < 0 || pt.max_bytes < 0 || pt.arena_offset > arena_bytes ||
          pt.max_bytes > arena_bytes - pt.arena_offset || pt.arena_offset % 64 != 0) {
        return bad("tensor '" + pt.name + "' lies outside the arena");
      }
    }
    if (pt.kind == TensorKind::kWeight) {
      auto numel = checked_numel(pt.dims);
      if (!numel.ok()) return bad("weight '" + pt.name + "' has bad dims");
      if (pt.dtype == DType::kString) {
        const auto count = t.strings() ? static_cast<int64_t>(t.strings()->size()) : 0;
        if (count != *numel) return bad("string weight '" + pt.name + "' has the wrong element count");
        INGOT_ASSIGN_OR_RETURN(pt.weight, Tensor::create(pt.dtype, pt.dims));
        for (int64_t i = 0; i < count; ++i) pt.weight.strings()[i] = t.strings()->Get(i)->str();
      } else {
        const int64_t off = t.weight_offset();
        const auto bytes = static_cast<uint64_t>(*numel) * dtype_size(pt.dtype);
        if (off < 0 || static_cast<uint64_t>(off) > weights_bytes_ || bytes > weights_bytes_ - off ||
            off % kWeightAlign != 0) {
          return bad("weight '" + pt.name + "' lies outside the weight section");
        }
        pt.weight = Tensor::wrap(pt.dtype, pt.dims, std::const_pointer_cast<void>(owner_),
                                 const_cast<uint8_t*>(weights_ + off));
      }
    }
    return pt;
  }

  Expected<std::pair<std::string, ir::Attribute>> attribute(const fb::Attr& a, const Plan& plan,
                                                            const std::string& who) {
    using K = ir::Attribute::Kind;
    ir::Attribute at;
    const std::string name = a.name() ? a.name()->str() : "";
    switch (a.kind()) {
      case fb::AttrKind::Float:
        at.kind = K::kFloat;
        break;
      case fb::AttrKind::Int:
        at.kind = K::kInt;
        break;
      case fb::AttrKind::String:
        at.kind = K::kString;
        break;
      case fb::AttrKind::Tensor:
        at.kind = K::kTensor;
        break;
      case fb::AttrKind::Floats:
        at.kind = K::kFloats;
        break;
      case fb::AttrKind::Ints:
        at.kind = K::kInts;
        break;
      case fb::AttrKind::Strings:
        at.kind = K::kStrings;
        break;
      case fb::AttrKind::Tensors:
        at.kind = K::kTensors;
        break;
      default:
        return bad(who + " attribute '" + name + "' has a bad kind");
    }
    at.f = a.f();
    at.i = a.i();
    if (a.s()) at.s = a.s()->str();
    if (a.floats()) at.floats.assign(a.floats()->begin(), a.floats()->end());
    INGOT_ASSIGN_OR_RETURN(at.ints, longs(a.ints(), who + " attribute '" + name + "'"));
    if (a.strings())
      for (const auto* s : *a.strings()) at.strings.push_back(s->str());
    if (a.tensors()) {
      for (int32_t id : *a.tensors()) {
        if (id < 0 || id >= static_cast<int32_t>(plan.tensors.size()) ||
            plan.tensors[id].kind != TensorKind::kWeight) {
          return bad(who + " attribute '" + name + "' names a bad tensor");
        }
        at.tensors.push_back(plan.tensors[id].weight);
      }
    }
    if (at.kind == K::kTensor) {
      if (at.tensors.size() != 1) return bad(who + " attribute '" + name + "' lacks its tensor");
      at.t = at.tensors[0];
      at.tensors.clear();
    }
    return std::make_pair(name, std::move(at));
  }

  const uint8_t* weights_;
  size_t weights_bytes_;
  std::shared_ptr<const void> owner_;
  std::string label_;
};

}  // namespace

bool attribute_serializable(const ir::Attribute& a) {
  using K = ir::Attribute::Kind;
  return a.kind != K::kGraph && a.kind != K::kGraphs && a.kind != K::kTypeProto && a.kind != K::kUndefined;
}

const char* tensor_kind_name(TensorKind k) {
  switch (k) {
    case TensorKind::kInput:
      return "input";
    case TensorKind::kOutput:
      return "output";
    case TensorKind::kWeight:
      return "weight";
    case TensorKind::kActivation:
      return "activation";
  }
  return "?";
}

Expected<std::string> serialize_plan(const Plan& plan) { return Writer(plan).run(); }

Status write_engine_file(const Plan& plan, const std::string& path) {
  INGOT_ASSIGN_OR_RETURN(std::string bytes, serialize_plan(plan));
  return write_file_atomically(path, {bytes});
}

Expected<Plan> read_engine(const void* data, size_t size, std::shared_ptr<const void> owner,
                           const std::string& label, const ReadOptions& options, HeaderInfo* header) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < 8 || std::memcmp(p, kEngineMagic, 8) != 0) {
    return invalid_argument(label +
                            ": not an ingot engine (no INGOTENG header); build one with `ingot build`");
  }
  if (size < kHeaderBytes)
    return invalid_argument(label + ": truncated engine file (" + std::to_string(size) + " bytes)");
  HeaderInfo h;
  h.format_version = get<uint32_t>(p, kOffFormat);
  h.ingot_version = fixed_string(p + kOffVersion, kVersionField);
  h.fingerprint = fixed_string(p + kOffFingerprint, kFingerprintField);
  h.file_bytes = get<uint64_t>(p, kOffFileBytes);
  h.plan_bytes = get<uint64_t>(p, kOffPlanBytes);
  h.weights_bytes = get<uint64_t>(p, kOffWeightsBytes);
  h.checksum = get<uint64_t>(p, kOffChecksum);
  if (header) *header = h;
  if (h.format_version != kEngineFormatVersion) {
    return invalid_argument(label + ": engine format version " + std::to_string(h.format_version) +
                            ", but this ingot reads version " + std::to_string(kEngineFormatVersion) +
                            ": rebuild the engine on this machine");
  }
  if (options.check_platform) {
    if (h.ingot_version != ingot::version()) {
      return invalid_argument(label + ": engine built by ingot " + h.ingot_version + ", but this is ingot " +
                              ingot::version() + ": rebuild the engine on this machine");
    }
    const std::string device = fingerprint_device(h.fingerprint);
    const std::string here = device_fingerprint(device);
    if (here.empty()) {
      return invalid_argument(label + ": engine built for '" + h.fingerprint + "', but this ingot has no " +
                              device + " backend: rebuild the engine for a device this ingot has");
    }
    if (h.fingerprint != here) {
      return invalid_argument(label + ": engine built for '" + h.fingerprint + "', but this machine is '" +
                              here + "': rebuild the engine on this machine");
    }
  }
  const uint64_t plan_off = get<uint64_t>(p, kOffPlanOffset);
  const uint64_t weights_off = get<uint64_t>(p, kOffWeightsOffset);
  if (get<uint32_t>(p, kOffHeaderBytes) != kHeaderBytes)
    return invalid_argument(label + ": corrupted engine header");
  if (h.file_bytes != size) {
    return invalid_argument(label + ": engine file is " + std::to_string(size) + " bytes, its header says " +
                            std::to_string(h.file_bytes) + (size < h.file_bytes ? " (truncated)" : "") +
                            ": rebuild the engine");
  }
  if (plan_off != kHeaderBytes || h.plan_bytes > size - plan_off || weights_off < plan_off + h.plan_bytes ||
      weights_off > size || h.weights_bytes != size - weights_off || weights_off % kWeightAlign != 0) {
    return invalid_argument(label + ": corrupted engine header (section offsets out of range)");
  }
  if (options.check_checksum && XXH3_64bits(p + kHeaderBytes, size - kHeaderBytes) != h.checksum) {
    return invalid_argument(label + ": engine file is corrupted (checksum mismatch): rebuild the engine");
  }
  flatbuffers::Verifier verifier(p + plan_off, h.plan_bytes, 64, 1u << 24);
  if (!fb::VerifyPlanBuffer(verifier)) {
    return invalid_argument(label + ": corrupted engine file: the plan does not verify (rebuild the engine)");
  }
  const fb::Plan* plan = fb::GetPlan(p + plan_off);
  INGOT_ASSIGN_OR_RETURN(Plan result,
                         Reader(p + weights_off, h.weights_bytes, std::move(owner), label).run(*plan));
  result.platform = h.fingerprint;
  result.ingot_version = h.ingot_version;
  return result;
}

Expected<Plan> read_engine_file(const std::string& path, HeaderInfo* header) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": not a regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < kHeaderBytes) {
    ::close(fd);
    char magic[8] = {};
    const bool is_engine = size >= 8 && std::ifstream(path, std::ios::binary).read(magic, 8) &&
                           std::memcmp(magic, kEngineMagic, 8) == 0;
    return invalid_argument(
        path + (is_engine ? ": truncated engine file (" + std::to_string(size) + " bytes)"
                          : ": not an ingot engine (no INGOTENG header); build one with `ingot build`"));
  }
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return invalid_argument(path + ": cannot map (" + std::strerror(errno) + ")");
  std::shared_ptr<const void> owner(m, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
  return read_engine(m, size, owner, path, {}, header);
}

bool looks_like_engine(const std::string& path) {
  char magic[8] = {};
  std::ifstream f(path, std::ios::binary);
  return f.read(magic, 8) && std::memcmp(magic, kEngineMagic, 8) == 0;
}

}  // namespace ingot::engine
