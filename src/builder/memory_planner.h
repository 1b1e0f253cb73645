// Dynamic tensor memory: every activation gets a place in one arena only while it lives.
#pragma once

#include "engine/plan.h"

namespace ingot::builder {

// Bytes every arena place is aligned to.
inline constexpr int64_t kArenaAlignment = 64;

// Assigns arena offsets to the plan's activations whose size is known (max_bytes >= 0): lifetimes over
// the layer order, views (alias_of) sharing their root's place and stretching its lifetime, places
// chosen largest first, each in the best-fitting gap among the places whose lifetimes overlap.
// Tensors read by a subgraph or returned as outputs are left to be allocated when produced.
// Sets plan.arena_bytes and plan.naive_bytes.
void plan_memory(engine::Plan& plan, const std::vector<bool>& pinned);

}  // namespace ingot::builder
