// Sightings: ingesting batches of packets and reading the aggregated rows back.
#include <algorithm>
#include <limits>

#include <sotto/core/heard.hpp>

#include "store/store_impl.hpp"

namespace sotto::store {

using detail::corrupt;
using detail::guarded;
using detail::read_sighting;
using detail::read_sighting_into;
using detail::Statement;
using detail::StatementReset;
using detail::Transaction;

namespace detail {

Result<void> read_sighting_into(const Statement& st, core::Sighting& out) {
    RawRow raw;
    raw.interval = st.column_int(0);
    raw.rpi = st.column_blob(1);
    raw.data = st.column_blob(2);
    return decode_sighting_into(raw, out);
}

Result<core::Sighting> read_sighting(const Statement& st) {
    core::Sighting s;
    if (auto r = read_sighting_into(st, s); !r) return r.error();
    return s;
}

}  // namespace detail

namespace {

// Binds ?1 interval, ?2 rpi, ?3 aem: the row's key.
Result<void> bind_row_key(Statement& st, const core::Sighting& s) {
    Result<void> r = st.bind(1, static_cast<std::int64_t>(s.interval));
    if (r) r = st.bind(2, std::span<const std::uint8_t>(s.rpi.bytes));
    if (r) r = st.bind(3, std::span<const std::uint8_t>(s.aem.bytes));
    return r;
}

// Binds the key and ?4 data. `row` holds the data BLOB and must outlive the run.
Result<void> bind_sighting(Statement& st, const core::Sighting& s, const detail::SightingRow& row) {
    Result<void> r = bind_row_key(st, s);
    if (r) r = st.bind(4, row.blob());
    return r;
}

// Runs a statement that takes only the row key.
Result<void> run_on_row(Statement& st, const core::Sighting& s) {
    StatementReset reset(st);
    if (auto r = bind_row_key(st, s); !r) return r;
    return st.run();
}

// Writes `s` back over its row.
Result<void> update_row(Statement& st, const core::Sighting& s) {
    auto row = detail::encode_sighting(s);
    if (!row) return row.error();
    StatementReset reset(st);
    if (auto r = bind_sighting(st, s, *row); !r) return r;
    return st.run();
}

// Every row (one per AEM) of the RPI of `s` in its interval.
Result<std::vector<core::Sighting>> siblings(Statements& st, const core::Sighting& s) {
    std::vector<core::Sighting> out;
    StatementReset reset(st.sibling_sightings);
    Result<void> b = st.sibling_sightings.bind(1, static_cast<std::int64_t>(s.interval));
    if (b) b = st.sibling_sightings.bind(2, std::span<const std::uint8_t>(s.rpi.bytes));
    if (!b) return b.error();
    while (true) {
        auto row = st.sibling_sightings.step();
        if (!row) return row.error();
        if (!*row) return out;
        auto x = read_sighting(st.sibling_sightings);
        if (!x) return x.error();
        out.push_back(std::move(*x));
    }
}

}  // namespace

namespace {

// The body of both `ingest`s. `at(i)` is the observation at index i; `check(i)` is the range
// check of a batch that was not checked yet (HeardBeacon's, the one place), or nothing.
// Runs under `guarded` (the store's lock); `StoreImpl` is deduced (EncounterStore::Impl).
template <class StoreImpl, class At, class Check>
Result<IngestReport> ingest_batch(StoreImpl& im, std::size_t n, const At& at, const Check& check,
                                  std::int64_t now_unix) {
    if (auto r = im.writable(); !r) return r.error();
    auto cutoff = retention_cutoff(now_unix, im.options.retention_days);
    if (!cutoff) return cutoff.error();

    IngestReport report;
    struct Item {
        core::IntervalNumber interval;
        std::uint32_t index;
    };
    std::vector<Item> items;
    items.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const core::Observation& o = at(i);
        if (auto v = check(i); !v) {
            report.rejected.push_back({i, v.error()});
            continue;
        }
        if (o.time > now_unix + kMaxFutureSkewSeconds) {
            report.rejected.push_back({i, {ErrorCode::kOutOfRange, "observation: in the future"}});
            continue;
        }
        const core::IntervalNumber enin = *core::interval_number(o.time);
        if (enin < *cutoff) {
            report.rejected.push_back(
                {i, {ErrorCode::kOutOfRange, "observation: older than the retention period"}});
            continue;
        }
        items.push_back({enin, static_cast<std::uint32_t>(i)});
    }
    if (items.empty()) return report;

    // Group by (interval, RPI, AEM); inside a group, time order, so the first packet is the
    // first heard.
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        if (a.interval != b.interval) return a.interval < b.interval;
        const core::Observation& oa = at(a.index);
        const core::Observation& ob = at(b.index);
        if (oa.beacon.rpi != ob.beacon.rpi) return oa.beacon.rpi < ob.beacon.rpi;
        if (oa.beacon.aem != ob.beacon.aem) return oa.beacon.aem.bytes < ob.beacon.aem.bytes;
        if (oa.time != ob.time) return oa.time < ob.time;
        return a.index < b.index;
    });

    auto tx = Transaction::begin(im.db);
    if (!tx) return tx.error();
    Statements& st = im.st;
    std::size_t new_rows = 0;
    std::size_t updated_rows = 0;
    for (std::size_t g = 0; g < items.size();) {
        std::size_t end = g + 1;
        core::Sighting s = core::make_sighting(at(items[g].index));
        while (end < items.size() && items[end].interval == items[g].interval &&
               at(items[end].index).beacon.rpi == s.rpi &&
               at(items[end].index).beacon.aem == s.aem) {
            core::add_observation(s, at(items[end].index));
            ++end;
        }
        const std::size_t packets = end - g;
        g = end;

        auto row = detail::encode_sighting(s);
        if (!row) return row.error();
        {
            StatementReset reset(st.insert_sighting);
            if (auto r = bind_sighting(st.insert_sighting, s, *row); !r) return r.error();
            if (auto r = st.insert_sighting.run(); !r) return r.error();
        }
        if (im.db.changes() == 1) {
            // A new AEM for this RPI and interval: keep at most kMaxAemsPerRpi of them. The
            // count is one index seek on pages the insert just touched.
            std::int64_t aems = 0;
            {
                StatementReset reset(st.count_aems);
                Result<void> b = st.count_aems.bind(1, static_cast<std::int64_t>(s.interval));
                if (b) b = st.count_aems.bind(2, std::span<const std::uint8_t>(s.rpi.bytes));
                if (!b) return b.error();
                auto counted = st.count_aems.step();
                if (!counted) return counted.error();
                aems = *counted ? st.count_aems.column_int(0) : 0;
            }
            if (aems <= static_cast<std::int64_t>(core::kMaxAemsPerRpi)) {
                ++new_rows;
                continue;
            }
            auto all = siblings(st, s);
            if (!all) return all.error();
            if (auto r = run_on_row(st.delete_sighting, s); !r) return r.error();
            report.aems_dropped += packets;
            for (core::Sighting& x : *all) {
                if (x.aem_conflict || x.aem == s.aem) continue;
                x.aem_conflict = true;  // the RPI's metadata is disputed beyond what is kept
                if (auto r = update_row(st.update_sighting, x); !r) return r.error();
            }
            continue;
        }
        // The row exists: merge with the stored aggregate.
        core::Sighting merged;
        {
            StatementReset reset(st.select_sighting);
            if (auto b = bind_row_key(st.select_sighting, s); !b) return b.error();
            auto found = st.select_sighting.step();
            if (!found) return found.error();
            if (!*found)
                return make_error(ErrorCode::kInternal, "store: row vanished during ingest");
            auto existing = read_sighting(st.select_sighting);
            if (!existing) return existing.error();
            merged = std::move(*existing);
        }
        core::merge_sightings(merged, s);
        if (auto r = update_row(st.update_sighting, merged); !r) return r.error();
        ++updated_rows;
    }
    if (auto r = tx->commit(); !r) return r.error();
    report.accepted = items.size() - report.aems_dropped;
    report.new_rows = new_rows;
    report.updated_rows = updated_rows;
    return report;
}

}  // namespace

Result<IngestReport> EncounterStore::ingest(std::span<const core::Observation> batch,
                                            std::int64_t now_unix) {
    return guarded(impl_, [&](Impl& im) {
        return ingest_batch(
            im, batch.size(), [&](std::size_t i) -> const core::Observation& { return batch[i]; },
            [&](std::size_t i) -> Result<void> {
                auto h = core::HeardBeacon::from_observation(batch[i]);
                if (!h) return h.error();
                return ok();
            },
            now_unix);
    });
}

Result<IngestReport> EncounterStore::ingest(std::span<const core::HeardBeacon> batch,
                                            std::int64_t now_unix) {
    return guarded(impl_, [&](Impl& im) {
        return ingest_batch(
            im, batch.size(),
            [&](std::size_t i) -> const core::Observation& { return batch[i].observation(); },
            [](std::size_t) -> Result<void> { return ok(); }, now_unix);
    });
}

Result<std::vector<core::Sighting>> EncounterStore::sightings_in_range(core::IntervalNumber begin,
                                                                       std::uint64_t end) const {
    return guarded(impl_, [&](Impl& im) -> Result<std::vector<core::Sighting>> {
        std::vector<core::Sighting> out;
        if (end <= begin) return out;
        const auto last = static_cast<std::int64_t>(std::min<std::uint64_t>(end, 1ull << 32));
        {
            // Counting first (a cheap scan of the same pages, which it also brings into the cache)
            // spares the result vector its reallocations.
            Statement& count = im.st.count_range;
            StatementReset reset(count);
            Result<void> b = count.bind(1, static_cast<std::int64_t>(begin));
            if (b) b = count.bind(2, last);
            if (!b) return b.error();
            auto row = count.step();
            if (!row) return row.error();
            if (*row) out.reserve(static_cast<std::size_t>(count.column_int(0)));
        }
        Statement& st = im.st.range_sightings;
        StatementReset reset(st);
        Result<void> b = st.bind(1, static_cast<std::int64_t>(begin));
        if (b) b = st.bind(2, last);
        if (!b) return b.error();
        while (true) {
            auto row = st.step();
            if (!row) return row.error();
            if (!*row) break;
            if (auto r = read_sighting_into(st, out.emplace_back()); !r) return r.error();
        }
        return out;
    });
}

Result<std::vector<core::Sighting>> EncounterStore::sightings_on_day(std::uint32_t day) const {
    const std::uint64_t begin = static_cast<std::uint64_t>(day) * core::kTekRollingPeriod;
    if (begin > std::numeric_limits<core::IntervalNumber>::max())
        return make_error(ErrorCode::kOutOfRange, "store: day outside the ENIN range");
    return sightings_in_range(static_cast<core::IntervalNumber>(begin),
                              begin + core::kTekRollingPeriod);
}

Result<std::vector<core::IntervalNumber>> EncounterStore::sighting_intervals() const {
    return guarded(impl_, [&](Impl& im) -> Result<std::vector<core::IntervalNumber>> {
        return im.intervals();
    });
}

Result<std::vector<core::IntervalNumber>> EncounterStore::Impl::intervals() {
    std::vector<core::IntervalNumber> out;
    Statement& next = st.next_interval;
    // One index seek per distinct interval instead of a scan over every row.
    std::int64_t from = 0;
    while (from <= std::numeric_limits<core::IntervalNumber>::max()) {
        StatementReset reset(next);
        if (auto b = next.bind(1, from); !b) return b.error();
        auto row = next.step();
        if (!row) return row.error();
        if (!*row) break;
        const std::int64_t v = next.column_int(0);
        if (v < from || v > std::numeric_limits<core::IntervalNumber>::max())
            return corrupt("store: malformed sighting row");
        out.push_back(static_cast<core::IntervalNumber>(v));
        from = v + 1;
    }
    return out;
}

Result<void> EncounterStore::for_each_sighting(
    const std::function<bool(const core::Sighting&)>& fn) const {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        Statement& st = im.st.range_sightings;
        StatementReset reset(st);
        Result<void> b = st.bind(1, std::int64_t{0});
        if (b) b = st.bind(2, std::int64_t{1} << 32);
        if (!b) return b.error();
        core::Sighting s;  // reused: its scan vector keeps its capacity
        while (true) {
            auto row = st.step();
            if (!row) return row.error();
            if (!*row) return ok();
            if (auto r = read_sighting_into(st, s); !r) return r.error();
            if (!fn(s)) return ok();
        }
    });
}
}  // namespace sotto::store
