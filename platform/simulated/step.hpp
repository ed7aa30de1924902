#pragma once
// One step of the simulated air (step.cpp), called by Air::advance_to under AirCore::mu.
#include <cstdint>

#include "air_core.hpp"

namespace sotto::platform::simulated {

/// Samples positions at the middle of step `step_index` and rebuilds the spatial grid (only when
/// the step or the layout changed).
void layout(AirCore& air, std::int64_t step_index);

/// Relays listen, then every scanning radio collects what it hears in [from, to) into
/// `air.packets` / `air.deliveries`; relayed packets older than `to` are dropped.
void simulate_step(AirCore& air, std::int64_t from, std::int64_t to);

}  // namespace sotto::platform::simulated
