#pragma once
/// \file
/// Where `BeaconFeed` hands what it heard: the Tracer (into its encounter store), a test,
/// or a benchmark's counter.

#include <span>

#include <sotto/core/heard.hpp>
#include <sotto/result.hpp>

namespace sotto::ble {

/// Receives batches of heard packets, checked once when they were heard (`core::HeardBeacon`).
///
/// NOTE for implementers: `accept` is all or nothing. Return success once the whole batch is
/// taken (observations the sink itself refuses as invalid count as taken); return an error when
/// nothing was taken, and the feed keeps the batch and offers it again at its next flush.
/// Called from whichever thread flushes the feed (the radio's callback thread for count-based
/// flushes, the caller of `tick`/`flush`/`stop` otherwise), never concurrently for one feed.
/// Must not call back into the feed. Must not throw.
class ObservationSink {
public:
    virtual ~ObservationSink() = default;
    virtual Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept = 0;
};

}  // namespace sotto::ble
