// BeaconFeed: checks, de-duplication, batching. Rules: include/sotto/ble/beacon_feed.hpp.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <sotto/ble/beacon_feed.hpp>
#include <sotto/core/heard.hpp>
#include <sotto/core/payload.hpp>

namespace sotto::ble {
namespace {

// A slot is one beacon (RPI + AEM) in one second of the receiver's clock.
struct SlotKey {
    core::Beacon beacon;
    std::int64_t second = 0;
    bool operator==(const SlotKey&) const = default;
};

struct SlotHash {
    std::uint64_t salt = 0;
    std::size_t operator()(const SlotKey& k) const noexcept {
        std::uint64_t h = salt ^ static_cast<std::uint64_t>(k.second) * 0x9E3779B97F4A7C15ull;
        std::uint64_t w[2];
        std::memcpy(w, k.beacon.rpi.bytes.data(), 16);
        std::uint32_t aem = 0;
        std::memcpy(&aem, k.beacon.aem.bytes.data(), 4);
        for (std::uint64_t v : {w[0], w[1], static_cast<std::uint64_t>(aem)}) {
            h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
            h *= 0xBF58476D1CE4E5B9ull;
            h ^= h >> 31;
        }
        return static_cast<std::size_t>(h);
    }
};

struct Slot {
    std::uint64_t strong_seq = 0;  // observation holding the strongest packet
    std::uint64_t weak_seq = 0;    // observation holding the weakest packet
    std::int8_t strong = 0;
    std::int8_t weak = 0;
};

// Slots of seconds this far behind the newest second heard are forgotten once flushed.
constexpr std::int64_t kSlotHorizonSeconds = 2;
// Flushes leave up to this many forgotten-able slots in place (pruning is a full scan).
constexpr std::size_t kPruneAboveSlots = 64;

}  // namespace

struct BeaconFeed::Impl {
    ObservationSink* sink = nullptr;
    FeedConfig config;

    mutable std::mutex mu;                   // everything below
    std::mutex flush_mu;                     // one sink call at a time
    std::vector<core::HeardBeacon> pending;  // pending[i] has sequence number pending_base + i
    std::uint64_t pending_base = 0;
    std::size_t in_flight = 0;   // observations handed to the sink right now
    std::int64_t oldest_ms = 0;  // receive time of the oldest pending observation
    std::unordered_map<SlotKey, Slot, SlotHash> slots;
    std::int64_t newest_second = std::numeric_limits<std::int64_t>::min();
    bool stopped = false;
    // Advertisements stamped at or before this are refused (the last erase); written under `mu`,
    // read without it by `note_clock`'s fast path.
    std::atomic<std::int64_t> erased_through{kNoErase};
    FeedCounters c;

    bool modifiable(std::uint64_t seq) const noexcept {
        return seq >= pending_base && seq - pending_base < pending.size();
    }
    bool full() const noexcept { return pending.size() + in_flight >= config.max_pending; }

    // Makes room for one more pending observation; the only step of `take` that allocates
    // besides the slot insertion, so a bad_alloc leaves everything as it was.
    void reserve_one() {
        if (pending.size() == pending.capacity())
            pending.reserve(std::max<std::size_t>(64, 2 * pending.capacity()));
    }

    std::uint64_t append(const core::HeardBeacon& h) noexcept {
        if (pending.empty()) oldest_ms = h.time_ms();
        pending.push_back(h);
        ++c.accepted;
        return pending_base + pending.size() - 1;
    }

    void prune_slots() noexcept {
        const bool crowded = slots.size() > 2 * config.max_pending;
        for (auto it = slots.begin(); it != slots.end();) {
            const bool old = it->first.second < newest_second - kSlotHorizonSeconds;
            const bool live = modifiable(it->second.strong_seq) || modifiable(it->second.weak_seq);
            it = ((old || crowded) && !live) ? slots.erase(it) : std::next(it);
        }
    }

    // Counts a radio's report that is no HeardBeacon by reason. Requires `mu`.
    void count_refused(const HeardAdvertisement& adv, const Error& why) noexcept {
        ++c.heard;
        if (stopped)
            ++c.dropped_stopped;  // after `stop` nothing is looked at, only counted
        else if (adv.service_uuid != core::kExposureNotificationUuid)
            ++c.dropped_wrong_uuid;
        else if (why.what == core::kHeardRssiOutOfRange)
            ++c.dropped_bad_rssi;
        else if (why.what == core::kHeardTimeOutOfRange)
            ++c.dropped_bad_time;
        else
            ++c.dropped_bad_length;
    }

    // Returns true when a count-based flush is due. Requires `mu`; `heard` was counted.
    bool take(const core::HeardBeacon& h) {
        if (stopped) {
            ++c.dropped_stopped;
            return false;
        }
        if (h.time_ms() <= erased_through.load(std::memory_order_relaxed)) {
            ++c.dropped_erased;
            return false;
        }
        ++c.decoded;
        const core::Observation& o = h.observation();
        newest_second = std::max(newest_second, o.time);

        const SlotKey key{o.beacon, o.time};
        auto it = slots.find(key);
        if (it == slots.end()) {
            if (full()) {
                ++c.dropped_overflow;
                return false;
            }
            if (slots.size() > 2 * config.max_pending) prune_slots();
            reserve_one();
            const std::uint64_t seq = pending_base + pending.size();
            slots.emplace(key, Slot{seq, seq, o.rssi, o.rssi});
            append(h);
        } else {
            Slot& s = it->second;
            const bool stronger = o.rssi > s.strong, weaker = o.rssi < s.weak;
            if (!stronger && !weaker) {
                ++c.deduplicated;
            } else {
                std::uint64_t& seq = stronger ? s.strong_seq : s.weak_seq;
                const std::uint64_t other = stronger ? s.weak_seq : s.strong_seq;
                if (modifiable(seq) && seq != other) {
                    pending[seq - pending_base].set_rssi_of(h);
                    ++c.deduplicated;
                } else if (full()) {
                    ++c.dropped_overflow;
                    return false;
                } else {
                    reserve_one();
                    seq = append(h);
                }
                (stronger ? s.strong : s.weak) = o.rssi;
            }
        }
        return pending.size() >= config.flush_count;
    }
};

Result<std::unique_ptr<BeaconFeed>> BeaconFeed::create(ObservationSink& sink,
                                                       const FeedConfig& config) noexcept {
    if (config.max_pending < 1 || config.max_pending > 10'000'000 || config.flush_count < 1 ||
        config.flush_count > config.max_pending || config.flush_interval_ms < 0 ||
        config.erase_clock_slack_ms < 0)
        return make_error(ErrorCode::kInvalidArgument, "beacon feed: configuration out of range");
    try {
        auto impl = std::make_unique<Impl>();
        impl->sink = &sink;
        impl->config = config;
        impl->slots = std::unordered_map<SlotKey, Slot, SlotHash>(
            64, SlotHash{reinterpret_cast<std::uintptr_t>(impl.get()) * 0xD6E8FEB86659FD93ull});
        return std::unique_ptr<BeaconFeed>(new BeaconFeed(std::move(impl)));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "beacon feed: out of memory");
    }
}

BeaconFeed::BeaconFeed(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
BeaconFeed::~BeaconFeed() = default;

void BeaconFeed::on_heard(const HeardAdvertisement& adv) noexcept {
    // The one check of what a radio reports (outside the lock: it is pure).
    Result<core::HeardBeacon> h = make_error(ErrorCode::kInvalidArgument, "wrong service UUID");
    if (adv.service_uuid == core::kExposureNotificationUuid) {
        h = core::HeardBeacon::from_service_data(adv.service_data, adv.rssi_dbm, adv.time_ms);
        if (h) return on_heard(*h);
    }
    std::lock_guard lock(impl_->mu);
    impl_->count_refused(adv, h.error());
}

void BeaconFeed::on_heard(const core::HeardBeacon& heard) noexcept {
    bool due = false;
    {
        std::lock_guard lock(impl_->mu);
        ++impl_->c.heard;
        try {
            due = impl_->take(heard);
        } catch (const std::bad_alloc&) {
            ++impl_->c.dropped_overflow;  // out of memory: refused like a full queue
        }
    }
    // Never wait for another flush on the radio's thread: the running one, or the next, takes
    // what is pending. A failure is counted; the observations stay pending.
    if (due) (void)flush_now(false);
}

Result<void> BeaconFeed::tick(std::int64_t now_ms) noexcept {
    (void)note_clock(now_ms);
    bool due = false;
    {
        std::lock_guard lock(impl_->mu);
        due = !impl_->pending.empty() &&
              (now_ms < impl_->oldest_ms ||
               now_ms - impl_->oldest_ms >= impl_->config.flush_interval_ms);
    }
    return due ? flush() : ok();
}

Result<void> BeaconFeed::flush() noexcept { return flush_now(true); }

Result<void> BeaconFeed::flush_now(bool wait) noexcept {
    Impl& m = *impl_;
    std::unique_lock flush_lock(m.flush_mu, std::defer_lock);
    if (wait) {
        flush_lock.lock();
    } else if (!flush_lock.try_lock()) {
        return ok();
    }
    std::vector<core::HeardBeacon> batch;
    std::int64_t batch_oldest = 0;
    {
        std::lock_guard lock(m.mu);
        if (m.pending.empty()) return ok();
        batch.swap(m.pending);
        m.in_flight = batch.size();
        m.pending_base += batch.size();
        batch_oldest = m.oldest_ms;
    }
    const Result<void> r = m.sink->accept(batch);
    std::lock_guard lock(m.mu);
    m.in_flight = 0;
    if (r) {
        m.c.flushed += batch.size();
        ++m.c.flushes;
        if (m.slots.size() > kPruneAboveSlots) m.prune_slots();
        return ok();
    }
    ++m.c.sink_failures;
    // Put the batch back in front, in order: nothing the sink did not take is lost.
    const std::size_t n = batch.size();
    try {
        batch.insert(batch.end(), m.pending.begin(), m.pending.end());
    } catch (const std::bad_alloc&) {
        // No memory to merge: keep the older batch, drop what arrived during the call (counted)
        // and forget the slots (their sequence numbers no longer hold).
        m.c.dropped_overflow += m.pending.size();
        m.c.accepted -= m.pending.size();
        batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(n), batch.end());
        m.slots.clear();
    }
    m.pending_base -= n;
    m.pending.swap(batch);
    m.oldest_ms = batch_oldest;
    return r;
}

Result<void> BeaconFeed::stop() noexcept {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopped = true;
    }
    return flush();
}

std::size_t BeaconFeed::discard(std::int64_t erased_at_ms) noexcept {
    return discard_marked(
        [](const void* ms) noexcept { return *static_cast<const std::int64_t*>(ms); },
        &erased_at_ms);
}

std::size_t BeaconFeed::discard_marked(NowFn now_ms, const void* context) noexcept {
    Impl& m = *impl_;
    // Holding flush_mu: no batch is with the sink, so none can be put back after this.
    std::lock_guard flush_lock(m.flush_mu);
    std::lock_guard lock(m.mu);
    // The mark is read and set under the same lock as the drop: a packet taken before is pending
    // and dropped here; one taken after meets the mark. A packet stamped after the clock was read
    // here can only be taken after this returns, and is kept.
    const std::int64_t erased_at_ms = now_ms(context);
    if (erased_at_ms > m.erased_through.load(std::memory_order_relaxed))
        m.erased_through.store(erased_at_ms, std::memory_order_relaxed);
    const std::size_t n = m.pending.size();
    m.pending_base += n;
    m.pending.clear();
    m.slots.clear();
    m.c.discarded += n;
    return n;
}

bool BeaconFeed::note_clock(std::int64_t now_ms) noexcept {
    Impl& m = *impl_;
    // w - now_ms in unsigned arithmetic: exact for w > now_ms, whatever the caller passes.
    const auto behind = [&](std::int64_t w) {
        return w != kNoErase &&
               now_ms<w&& static_cast<std::uint64_t>(w) -
                      static_cast<std::uint64_t>(
                          now_ms)> static_cast<std::uint64_t>(m.config.erase_clock_slack_ms);
    };
    if (!behind(m.erased_through.load(std::memory_order_relaxed))) return false;
    std::lock_guard lock(m.mu);
    if (!behind(m.erased_through.load(std::memory_order_relaxed))) return false;
    m.erased_through.store(kNoErase, std::memory_order_relaxed);
    ++m.c.erase_marks_dropped;
    return true;
}

std::int64_t BeaconFeed::erased_through() const noexcept {
    return impl_->erased_through.load(std::memory_order_relaxed);
}

FeedCounters BeaconFeed::counters() const noexcept {
    std::lock_guard lock(impl_->mu);
    FeedCounters c = impl_->c;
    c.pending = impl_->pending.size() + impl_->in_flight;
    return c;
}

}  // namespace sotto::ble
