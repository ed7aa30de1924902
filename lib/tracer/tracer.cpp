// Tracer lifecycle, status, erase and the public methods' exception boundary.
#include <algorithm>
#include <filesystem>
#include <new>

#include <sotto/log.hpp>
#include <sotto/tracer.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {
namespace {

Result<void> validate(const TracerOptions& o) noexcept {
    if (o.flush_count == 0 || o.flush_count > 1'000'000)
        return make_error(ErrorCode::kInvalidArgument, "tracer: flush_count must be 1..1000000");
    if (o.max_pending < o.flush_count || o.max_pending > 10'000'000)
        return make_error(ErrorCode::kInvalidArgument,
                          "tracer: max_pending must be flush_count..10000000");
    if (o.flush_interval_ms < 0)
        return make_error(ErrorCode::kInvalidArgument, "tracer: flush_interval_ms must be >= 0");
    if (o.batch_keys == 0)
        return make_error(ErrorCode::kInvalidArgument, "tracer: batch_keys must be > 0");
    return {};
}

// Every public method runs its body through this: no exception leaves sotto.
template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "tracer: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "tracer: unexpected exception");
    }
}

// Key files named by a path are read only when they are regular files (or a directory holding
// them): a FIFO would block the reader, a device such as /dev/zero would never end. Checked with
// stat, which opens nothing.
Result<void> regular_key_file_inputs(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto regular_or_missing = [&](const fs::path& p) {
        const auto st = fs::status(p, ec);
        return st.type() == fs::file_type::regular || st.type() == fs::file_type::not_found;
    };
    const auto st = fs::status(path, ec);
    if (st.type() == fs::file_type::directory) {
        if (!regular_or_missing(path / "export.bin") || !regular_or_missing(path / "export.sig"))
            return make_error(ErrorCode::kKeyFileIo, "key file: not a regular file");
        return {};
    }
    if (st.type() == fs::file_type::not_found) return {};  // the reader reports it
    if (st.type() != fs::file_type::regular)
        return make_error(ErrorCode::kKeyFileIo, "key file: not a regular file");
    fs::path sig = path;
    sig.replace_extension(".sig");
    if (!regular_or_missing(sig))
        return make_error(ErrorCode::kKeyFileIo, "key file: not a regular file");
    return {};
}

}  // namespace

PublishConsent user_confirmed_upload_of_own_keys() noexcept { return PublishConsent{}; }

const char* to_string(RiskLevel risk) noexcept {
    switch (risk) {
        case RiskLevel::kHigh:
            return "high";
        case RiskLevel::kLow:
            return "low";
        case RiskLevel::kNone:
            return "none";
    }
    return "none";
}

const char* to_string(KeyFileStatus status) noexcept {
    switch (status) {
        case KeyFileStatus::kMatched:
            return "matched";
        case KeyFileStatus::kRefused:
            return "refused";
        case KeyFileStatus::kAlreadyProcessed:
            return "already processed";
    }
    return "refused";
}

ble::Advertisement OwnAdvertisement::to_radio(std::int8_t tx_power_dbm) const noexcept {
    ble::Advertisement a;
    a.service_data = service_data;
    a.address = address;
    a.tx_power_dbm = tx_power_dbm;
    return a;
}

Result<Tracer> Tracer::open(const std::filesystem::path& path, store::Credential credential,
                            const Clock& clock, TracerOptions options) noexcept {
    return guarded([&]() -> Result<Tracer> {
        if (auto v = validate(options); !v) return v.error();
        std::shared_ptr<core::Rng> rng = options.rng;
        if (!rng) {
            auto sys = core::SystemRng::create();
            if (!sys) return sys.error();
            rng = std::make_shared<core::SystemRng>(std::move(*sys));
        }
        auto store = store::EncounterStore::open(path, std::move(credential), options.store);
        if (!store) return store.error();
        auto impl =
            std::make_unique<Impl>(clock, std::move(options), std::move(*store), std::move(rng));
        ble::FeedConfig fc;
        fc.flush_count = impl->options.flush_count;
        fc.flush_interval_ms = impl->options.flush_interval_ms;
        fc.max_pending = impl->options.max_pending;
        auto feed = ble::BeaconFeed::create(impl->sink, fc);
        if (!feed) return feed.error();
        impl->feed = std::move(*feed);
        // The last erase's mark survives a restart: a late batch stamped before it (Android
        // delivers batched scan results late) is refused as it was before the restart. The same
        // clock rule as in flight: a clock more than the slack behind the mark drops it (in
        // memory only; the stored mark stays, and is armed again by an open under a later clock).
        auto mark = impl->store.erased_at();
        if (!mark) return mark.error();
        if (*mark) {
            (void)impl->feed->discard(**mark);
            (void)impl->feed->note_clock(impl->clock.now_ms());
        }
        write_log(LogLevel::kInfo, "tracer: store opened");
        return Tracer(std::move(impl));
    });
}

Tracer::Tracer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Tracer::Tracer(Tracer&&) noexcept = default;
Tracer& Tracer::operator=(Tracer&& o) noexcept {
    if (this != &o) {
        Tracer old(std::move(*this));  // the old state is flushed and closed by its destructor
        impl_ = std::move(o.impl_);
    }
    return *this;
}

Tracer::~Tracer() {
    if (!impl_) return;
    try {
        (void)impl_->detach_radio();
        if (auto r = impl_->feed->stop(); !r)
            write_log(LogLevel::kError,
                      "tracer: pending observations could not be stored at close");
    } catch (...) {
        // Nothing may escape a destructor; what could not be written was logged.
    }
}

Result<OwnAdvertisement> Tracer::current_advertisement() noexcept {
    return guarded([&] { return impl_->current_advertisement(); });
}

Result<void> Tracer::on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                      std::int64_t time_ms) noexcept {
    return guarded([&] { return impl_->on_advertisement(bytes, rssi_dbm, time_ms); });
}

Result<void> Tracer::on_advertisement(const core::HeardBeacon& heard) noexcept {
    return guarded([&]() -> Result<void> {
        impl_->on_advertisement(heard);
        return {};
    });
}

Result<void> Tracer::flush() noexcept {
    return guarded([&] { return impl_->flush(); });
}

Result<store::IngestReport> Tracer::ingest(std::span<const core::Observation> batch) noexcept {
    return guarded([&]() -> Result<store::IngestReport> {
        std::lock_guard erase_lock(impl_->erase_mu);
        if (auto f = impl_->flush(); !f) return f.error();
        // Nothing stamped at or before the last erase is stored after it (the feed's mark, so
        // the same clock rule applies). Those are left out; the store's rejections keep the
        // indices of `batch`.
        (void)impl_->feed->note_clock(impl_->clock.now_ms());
        const std::int64_t erased = impl_->feed->erased_through();
        const auto is_erased = [&](const core::Observation& o) {
            return erased != ble::kNoErase && o.time <= erased / 1000;
        };
        std::vector<std::size_t> kept_index;
        std::vector<core::Observation> kept;
        const bool filtered = std::any_of(batch.begin(), batch.end(), is_erased);
        if (filtered) {
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (is_erased(batch[i])) continue;
                kept_index.push_back(i);
                kept.push_back(batch[i]);
            }
            impl_->counters.ingest_erased.fetch_add(batch.size() - kept.size(),
                                                    std::memory_order_relaxed);
            batch = kept;
        }
        auto r = impl_->store.ingest(batch, impl_->clock.now_seconds());
        if (!r) return r.error();
        if (filtered)
            for (auto& rej : r->rejected) rej.index = kept_index.at(rej.index);
        impl_->counters.stored.fetch_add(r->accepted, std::memory_order_relaxed);
        impl_->counters.rejected.fetch_add(r->rejected.size(), std::memory_order_relaxed);
        return r;
    });
}

Result<store::RetentionReport> Tracer::apply_retention(store::RetentionOptions options) noexcept {
    return guarded([&] { return impl_->retention(impl_->clock.now_seconds(), options); });
}

Result<TickReport> Tracer::tick() noexcept {
    return guarded([&]() -> Result<TickReport> {
        TickReport report;
        std::optional<Error> first;
        auto keep = [&](Result<void> r) {
            if (!r && !first) first = r.error();
        };
        const std::uint64_t rotations_before = impl_->counters.rotations.load();
        const std::uint64_t flushes_before = impl_->feed->counters().flushes;
        // Retention first, once per UTC day: the clock is judged before anything (a batch of
        // heard advertisements, a new TEK) is written under it.
        const std::int64_t now = impl_->clock.now_seconds();
        const std::int64_t day = now / 86400;
        if (now >= 0 && impl_->last_retention_day.exchange(day) != day) {
            auto r = impl_->daily_retention(now);
            if (r) {
                report.retention = RetentionRun::kRan;
            } else {
                impl_->last_retention_day.store(-1);  // try again at the next tick
                if (r.error().code == ErrorCode::kClockSuspect) {
                    report.retention = RetentionRun::kPausedClockSuspect;
                } else {
                    keep(r.error());
                }
            }
        }
        keep(impl_->feed->tick(impl_->clock.now_ms()));
        // Rolls the TEK at the day boundary, rotates an attached radio's payload and address,
        // and switches its scanner on the duty cycle.
        if (impl_->radio_attached.load()) {
            keep(impl_->refresh_radio());
        } else if (auto adv = impl_->current_advertisement(); !adv) {
            keep(adv.error());
        }
        if (first) return *first;
        report.flushed = impl_->feed->counters().flushes != flushes_before;
        report.rotated = impl_->counters.rotations.load() != rotations_before;
        return report;
    });
}

Result<void> Tracer::attach_radio(std::unique_ptr<ble::Radio> radio) noexcept {
    return guarded([&] { return impl_->attach_radio(std::move(radio)); });
}

Result<void> Tracer::detach_radio() noexcept {
    return guarded([&] { return impl_->detach_radio(); });
}

Result<KeyFileOutcome> Tracer::import_key_file(const std::filesystem::path& path,
                                               const ImportOptions& options) noexcept {
    return guarded([&] {
        return impl_->import(path.string(), options,
                             [&](keyfile::VerifyMode mode,
                                 const keyfile::KeySink& sink) -> Result<keyfile::ExportInfo> {
                                 if (auto r = regular_key_file_inputs(path); !r) return r.error();
                                 return keyfile::read_export_file(path, impl_->options.trust, mode,
                                                                  sink, impl_->options.read);
                             });
    });
}

Result<KeyFileOutcome> Tracer::import_key_file(std::span<const std::uint8_t> zip_bytes,
                                               const ImportOptions& options) noexcept {
    return guarded([&] {
        return impl_->import({}, options,
                             [&](keyfile::VerifyMode mode, const keyfile::KeySink& sink) {
                                 return keyfile::read_export_zip(zip_bytes, impl_->options.trust,
                                                                 mode, sink, impl_->options.read);
                             });
    });
}

Result<KeyFileOutcome> Tracer::import_key_pair(std::span<const std::uint8_t> export_bin,
                                               std::span<const std::uint8_t> export_sig,
                                               const ImportOptions& options) noexcept {
    return guarded([&] {
        return impl_->import(
            {}, options, [&](keyfile::VerifyMode mode, const keyfile::KeySink& sink) {
                return keyfile::read_export_pair(export_bin, export_sig, impl_->options.trust, mode,
                                                 sink, impl_->options.read);
            });
    });
}

Result<CheckReport> Tracer::check() noexcept {
    return guarded([&] { return impl_->check(); });
}

void Tracer::discard_round() noexcept {
    std::lock_guard lock(impl_->round_mu);
    impl_->round.reset();
    impl_->round_open = false;
}

const keyfile::TrustStore& Tracer::trust() const noexcept { return impl_->options.trust; }

Result<CheckReport> Tracer::check_files(std::span<const std::filesystem::path> paths,
                                        const ImportOptions& options) noexcept {
    for (const auto& p : paths)
        if (auto r = import_key_file(p, options); !r) return r.error();
    return check();
}

Result<std::vector<store::ExposureRecord>> Tracer::exposure_records() const noexcept {
    return guarded([&] { return impl_->store.exposure_records(); });
}

Result<std::vector<ReleasedKey>> Tracer::release_own_keys(PublishConsent) noexcept {
    return guarded([&] { return impl_->release_own_keys(); });
}

Result<std::size_t> Tracer::own_key_count() const noexcept {
    return guarded([&]() -> Result<std::size_t> {
        auto keys = impl_->store.own_keys();
        if (!keys) return keys.error();
        return keys->size();
    });
}

Result<void> Tracer::erase_all() noexcept {
    return guarded([&]() -> Result<void> {
        {
            std::scoped_lock lock(impl_->erase_mu, impl_->round_mu, impl_->own_mu);
            // Nothing heard before the erase may survive it. What waits in the feed is dropped
            // unwritten: writing it first would only store it to delete it, and fails exactly
            // when the store is full, leaving it to be written back after the erase. `discard`
            // also waits for a flush running on a radio thread, so no older batch lands later.
            // The erase's time is read under the feed's lock: every packet stamped before it
            // is refused from now on, however late it arrives (a host's batch, a preempted radio
            // thread), and every packet stamped after it is kept.
            (void)impl_->feed->discard_at([&]() noexcept { return impl_->clock.now_ms(); });
            // The feed's mark is stored with the erase, in its transaction (see `open`). When
            // the feed kept a later mark (a clock set back within the slack), that one stays.
            const std::int64_t mark = impl_->feed->erased_through();
            if (auto r = impl_->store.erase_all(
                    mark == ble::kNoErase ? std::nullopt : std::optional<std::int64_t>(mark));
                !r)
                return r.error();
            impl_->round.reset();
            impl_->round_open = false;
            impl_->roll_now();
            impl_->last_payload.reset();
        }
        write_log(LogLevel::kInfo, "tracer: everything erased");
        // An attached radio stops sending the erased key at once.
        return impl_->refresh_radio();
    });
}

TracerStatus Tracer::status() const noexcept {
    TracerStatus s;
    const auto& c = impl_->counters;
    const ble::FeedCounters f = impl_->feed->counters();
    s.heard = f.decoded;
    s.deduplicated = f.deduplicated;
    s.malformed = c.malformed.load() + f.dropped_bad_length;
    s.dropped_overflow = f.dropped_overflow;
    s.pending = f.pending;
    s.stored = c.stored.load();
    s.rejected = c.rejected.load();
    s.flushes = f.flushes;
    s.flush_failures = f.sink_failures;
    s.discarded = f.discarded + f.dropped_erased + c.ingest_erased.load();
    s.own_keys_created = c.own_keys_created.load();
    s.rotations = c.rotations.load();
    s.radio_errors = c.radio_errors.load();
    s.files_imported = c.files_imported.load();
    s.files_refused = c.files_refused.load();
    s.files_skipped = c.files_skipped.load();
    s.checks = c.checks.load();
    s.radio_attached = impl_->radio_attached.load();
    s.round_open = impl_->round_open.load();
    s.clock_suspect = impl_->clock_suspect.load();
    return s;
}

Result<store::StoreStats> Tracer::store_stats() const noexcept {
    return guarded([&] { return impl_->store.stats(); });
}

}  // namespace sotto
