#pragma once
/// \file
/// BeaconFeed: turns what a radio hears into observations for the store.
///
/// Every advertisement a radio reports is strictly checked once: service UUID 0xFD6F, then
/// `core::HeardBeacon::from_service_data` (exactly 20 bytes of service data, RSSI within the
/// physical range [core::kMinRssiDbm, core::kMaxRssiDbm], never clamped, and a time with an
/// ENIN). Anything else is dropped and counted by reason; it never reaches the sink. A
/// `core::HeardBeacon` handed over directly (the Tracer's `on_advertisement`) is not checked again.
///
/// De-duplication (what is kept): a BLE stack reports the same beacon many times a second. For
/// each beacon (RPI and AEM) and each second of the receiver's clock, the feed keeps at most two
/// observations: the first packet of that second, which is then replaced by the strongest
/// packet, and a second one that holds the weakest packet once one weaker than the strongest
/// arrives. So the store keeps, for every scan, the exact time of each second the beacon was
/// heard, the exact strongest and weakest RSSI (what the exposure window's minimum attenuation
/// needs), and one or two samples per second for the mean; the packets folded away are counted
/// in `FeedCounters::deduplicated`, never stored. Once a second's observations were flushed, a
/// later packet of that second that is a new extreme is kept as a new observation.
///
/// Flushing: batches go to the sink when `flush_count` observations are pending (on the thread
/// that calls `on_heard`, unless another flush is running: it never waits for one), when
/// `tick(now)` finds the oldest pending observation `flush_interval_ms` old, and on `flush()` and
/// `stop()`.
///
/// Memory: at most `max_pending` observations wait for the sink. When full, packets that would
/// need a new observation are dropped and counted (`dropped_overflow`: the newest are lost, what
/// is already queued is kept); packets that only update a queued observation still do.
/// A failing sink loses nothing it did not take: the batch stays queued and is offered again at
/// the next flush (`sink_failures` counts the refusals).
///
/// Erase: `discard(erased_at_ms)` drops what is pending and from then on refuses every packet
/// stamped at or before `erased_at_ms` (`dropped_erased`), however late it arrives: a host's
/// batched scan results, or a radio thread preempted between stamping a packet and `on_heard`.
/// That mark is a time of the caller's clock; a clock later found more than
/// `erase_clock_slack_ms` behind it (`note_clock`, `tick`) shows the mark cannot be trusted (the
/// clock was wrong at the erase or was set back since), and the mark is dropped rather than
/// refusing everything heard until the clock catches up.
///
/// Threading: all methods are thread-safe (one internal mutex, no thread of its own). The sink
/// is called without that mutex held, one flush at a time.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include <sotto/ble/observation_sink.hpp>
#include <sotto/ble/radio.hpp>
#include <sotto/core/heard.hpp>
#include <sotto/result.hpp>

namespace sotto::ble {

/// Configuration of a `BeaconFeed`.
struct FeedConfig {
    /// Flush when this many observations are pending. 1 .. max_pending.
    std::size_t flush_count = 512;
    /// `tick` flushes once the oldest pending observation is this old (ms, >= 0).
    std::int64_t flush_interval_ms = 60'000;
    /// Most observations kept waiting for the sink. 1 .. 10,000,000.
    std::size_t max_pending = 65'536;
    /// An erase mark more than this far ahead of the clock (ms, >= 0) is dropped (`note_clock`).
    std::int64_t erase_clock_slack_ms = 300'000;
};

/// `BeaconFeed::erased_through()` when no erase mark is set.
inline constexpr std::int64_t kNoErase = std::numeric_limits<std::int64_t>::min();

/// What the feed did, for diagnostics. Holds no identifier. Every heard advertisement is counted
/// exactly once among: the `dropped_*` reasons, `accepted` and `deduplicated`.
struct FeedCounters {
    std::uint64_t heard = 0;               ///< advertisements passed to `on_heard`
    std::uint64_t dropped_wrong_uuid = 0;  ///< service UUID other than 0xFD6F
    std::uint64_t dropped_bad_length = 0;  ///< 0xFD6F service data that is not exactly 20 bytes
    std::uint64_t dropped_bad_rssi = 0;    ///< RSSI outside the physical range
    std::uint64_t dropped_bad_time = 0;    ///< negative or unrepresentable receive time
    std::uint64_t dropped_overflow = 0;    ///< refused because `max_pending` was reached
    std::uint64_t dropped_stopped = 0;     ///< heard after `stop`
    std::uint64_t dropped_erased = 0;      ///< stamped at or before the last `discard` mark
    std::uint64_t decoded =
        0;  ///< passed every check (= accepted + deduplicated + dropped_overflow)
    std::uint64_t accepted = 0;       ///< became a new observation
    std::uint64_t deduplicated = 0;   ///< folded into a pending or already kept observation
    std::uint64_t flushed = 0;        ///< observations the sink took
    std::uint64_t flushes = 0;        ///< successful sink calls
    std::uint64_t sink_failures = 0;  ///< sink calls that returned an error
    std::uint64_t pending = 0;        ///< observations waiting now
    /// Observations dropped unwritten by `discard`. Without allocation failures,
    /// accepted = flushed + pending + discarded.
    std::uint64_t discarded = 0;
    /// Erase marks dropped by `note_clock` because the clock was far behind them.
    std::uint64_t erase_marks_dropped = 0;
};

/// Decodes, checks, de-duplicates and batches heard advertisements. See the file comment.
class BeaconFeed {
public:
    /// kInvalidArgument for a bad configuration. `sink` must outlive the feed.
    static Result<std::unique_ptr<BeaconFeed>> create(ObservationSink& sink,
                                                      const FeedConfig& config = {}) noexcept;
    ~BeaconFeed();
    BeaconFeed(const BeaconFeed&) = delete;
    BeaconFeed& operator=(const BeaconFeed&) = delete;

    /// Takes one heard advertisement (any thread; a `ScanCallback` can call it directly). Never
    /// fails: problems are counted. May flush to the sink on this thread (count-based flush).
    void on_heard(const HeardAdvertisement& adv) noexcept;

    /// Takes one packet already checked when it was heard (`core::HeardBeacon`: decoded, RSSI
    /// and time in range). Same contract; only `stop`, an erase mark and the buffer can refuse it.
    void on_heard(const core::HeardBeacon& heard) noexcept;

    /// Flushes if the oldest pending observation is at least `flush_interval_ms` older than
    /// `now_ms` (or `now_ms` is before it: the clock moved back). Returns the sink's error.
    /// Calls `note_clock(now_ms)` first.
    Result<void> tick(std::int64_t now_ms) noexcept;

    /// Hands every pending observation to the sink. Success with nothing pending. On a sink
    /// error the observations stay pending and the error is returned.
    Result<void> flush() noexcept;

    /// Flushes and refuses everything heard afterwards (counted as `dropped_stopped`). If the
    /// flush fails, the feed is stopped anyway and the observations stay pending: call `flush`
    /// again to retry. Idempotent.
    Result<void> stop() noexcept;

    /// Drops every pending observation without offering it to the sink, and forgets the
    /// de-duplication state, so a packet heard afterwards is a new observation even within the
    /// same second. Waits for a flush running on another thread to finish first: its batch is
    /// then either taken by the sink or dropped here, never offered again later. With
    /// `erased_at_ms` (the caller's clock at the erase, Unix ms), every packet stamped at or
    /// before it that arrives afterwards is refused too (`dropped_erased`); a later mark replaces
    /// an earlier one, an earlier one is ignored. Returns how many observations were dropped
    /// (also added to `FeedCounters::discarded`). For "forget me": nothing heard before the
    /// erase reaches the sink afterwards. Never fails; the feed stays usable (a stopped feed
    /// stays stopped).
    std::size_t discard(std::int64_t erased_at_ms = kNoErase) noexcept;

    /// `discard` with the mark read from `now_ms()` (Unix ms; must not throw) while the feed is
    /// locked: a packet stamped by the same clock before that read is dropped whenever it
    /// arrives, one stamped after it is kept (it cannot be taken before this returns).
    template <class NowMs>
    std::size_t discard_at(const NowMs& now_ms) noexcept {
        return discard_marked(
            [](const void* f) noexcept { return (*static_cast<const NowMs*>(f))(); }, &now_ms);
    }

    /// Tells the feed the caller's clock (Unix ms). If the erase mark is more than
    /// `erase_clock_slack_ms` ahead of it, the mark is dropped (counted in
    /// `erase_marks_dropped`) and true returned: packets stamped by the clock as it is now are
    /// taken again. Cheap when nothing changes (no lock).
    bool note_clock(std::int64_t now_ms) noexcept;

    /// The erase mark in force (Unix ms), or `kNoErase`.
    std::int64_t erased_through() const noexcept;

    FeedCounters counters() const noexcept;

private:
    struct Impl;
    explicit BeaconFeed(std::unique_ptr<Impl> impl) noexcept;
    Result<void> flush_now(bool wait) noexcept;
    using NowFn = std::int64_t (*)(const void*) noexcept;
    std::size_t discard_marked(NowFn now_ms, const void* context) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto::ble
