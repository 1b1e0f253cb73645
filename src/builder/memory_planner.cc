#include "builder/memory_planner.h"

#include <algorithm>
#include <limits>

namespace ingot::builder {
namespace {

int64_t align_up(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

struct Block {
  int32_t root;
  int64_t bytes;
  int first, last;  // layer indices, inclusive
  int64_t offset = -1;
};

}  // namespace

void plan_memory(engine::Plan& plan, const std::vector<bool>& pinned) {
  using engine::TensorKind;
  const int n = static_cast<int>(plan.tensors.size());
  const int end = static_cast<int>(plan.layers.size());
  auto root_of = [&](int32_t t) {
    while (plan.tensors[t].alias_of >= 0) t = plan.tensors[t].alias_of;
    return t;
  };
  std::vector<int> first(n, std::numeric_limits<int>::max()), last(n, -1);
  std::vector<bool> excluded(n, false);
  for (int i = 0; i < n; ++i) {
    const engine::PlanTensor& t = plan.tensors[i];
    if (t.kind == TensorKind::kOutput || pinned[i]) excluded[root_of(i)] = true;
  }
  for (int l = 0; l < end; ++l) {
    for (int32_t t : plan.layers[l].outputs) {
      if (t < 0) continue;
      const int32_t r = root_of(t);
      first[r] = std::min(first[r], l);
      last[r] = std::max(last[r], l);
    }
    for (int32_t t : plan.layers[l].inputs) {
      if (t < 0) continue;
      const int32_t r = root_of(t);
      last[r] = std::max(last[r], l);
    }
  }
  std::vector<Block> blocks;
  plan.naive_bytes = 0;
  for (int i = 0; i < n; ++i) {
    engine::PlanTensor& t = plan.tensors[i];
    t.arena_offset = -1;
    if (t.kind != TensorKind::kActivation && t.kind != TensorKind::kOutput) continue;
    if (t.alias_of >= 0) continue;
    if (t.max_bytes < 0 || t.dtype == DType::kString) continue;
    plan.naive_bytes += align_up(t.max_bytes);
    if (excluded[i] || last[i] < 0 || first[i] > last[i]) continue;
    blocks.push_back({i, align_up(std::max<int64_t>(t.max_bytes, 1)), first[i], last[i]});
  }
  // Largest first; among equals, the earlier-born first, so the result does not depend on tensor order.
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes
                              : (a.first != b.first ? a.first < b.first : a.root < b.root);
  });
  std::vector<const Block*> placed;
  int64_t arena = 0;
  for (Block& b : blocks) {
    std::vector<const Block*> live;
    for (const Block* p : placed)
      if (p->first <= b.last && b.first <= p->last) live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Block* x, const Block* y) { return x->offset < y->offset; });
    int64_t best = -1, best_gap = std::numeric_limits<int64_t>::max(), cursor = 0;
    for (const Block* p : live) {
      const int64_t gap = p->offset - cursor;
      if (gap >= b.bytes && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
      cursor = std::max(cursor, p->offset + p->bytes);
    }
    b.offset = best >= 0 ? best : cursor;
    arena = std::max(arena, b.offset + b.bytes);
    placed.push_back(&b);
  }
  for (const Block& b : blocks) plan.tensors[b.root].arena_offset = b.offset;
  plan.arena_bytes = arena;
}

}  // namespace ingot::builder
