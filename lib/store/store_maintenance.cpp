// Maintenance: retention, erasing, the full integrity check and counts.
#include <limits>
#include <optional>

#include "store/migrations.hpp"
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::corrupt;
using detail::guarded;
using detail::Statement;
using detail::Transaction;

Result<core::IntervalNumber> retention_cutoff(std::int64_t now_unix, std::uint32_t retention_days) {
    if (retention_days == 0)
        return make_error(ErrorCode::kInvalidArgument, "store: retention_days must be at least 1");
    auto enin = core::interval_number(now_unix);
    if (!enin) return enin.error();
    const std::uint64_t start = core::day_start_interval(*enin);
    const std::uint64_t back =
        static_cast<std::uint64_t>(retention_days - 1) * core::kTekRollingPeriod;
    return static_cast<core::IntervalNumber>(start > back ? start - back : 0);
}

namespace {

constexpr char kLastRetention[] = "last_retention";

}  // namespace

Result<RetentionReport> EncounterStore::apply_retention(std::int64_t now_unix,
                                                        const RetentionOptions& options) {
    return guarded(impl_, [&](Impl& im) -> Result<RetentionReport> {
        if (auto r = im.writable(); !r) return r.error();
        auto cutoff = retention_cutoff(now_unix, im.options.retention_days);
        if (!cutoff) return cutoff.error();
        if (auto j = im.judge_clock(now_unix, options.clock_confirmed); !j) return j.error();
        RetentionReport report;
        report.cutoff = *cutoff;
        const std::int64_t c = *cutoff;
        struct Step {
            const char* sql;
            std::int64_t arg;
            std::size_t* count;
        };
        const Step steps[] = {
            {"DELETE FROM sightings WHERE interval < ?1", c, &report.sightings},
            {"DELETE FROM own_keys WHERE rolling_start + rolling_period <= ?1", c,
             &report.own_keys},
            {"DELETE FROM exposure_records WHERE day < ?1", c / core::kTekRollingPeriod,
             &report.exposure_records},
            {"DELETE FROM processed_files WHERE processed_at < ?1", c * core::kIntervalSeconds,
             &report.processed_files},
            {"DELETE FROM key_publications WHERE window_end + 144 <= ?1", c,
             &report.key_publications},
        };
        auto tx = Transaction::begin(im.db);
        if (!tx) return tx.error();
        for (const Step& s : steps) {
            auto st = Statement::prepare(im.db, s.sql);
            if (!st) return st.error();
            if (auto b = st->bind(1, s.arg); !b) return b.error();
            if (auto r = st->run(); !r) return r.error();
            *s.count = static_cast<std::size_t>(im.db.changes());
        }
        {
            // The last run moves forward only: a clock set back later must not pull it back.
            auto st = Statement::prepare(
                im.db,
                "INSERT OR REPLACE INTO store_meta (name, value) VALUES (?1, "
                "max(?2, coalesce((SELECT value FROM store_meta WHERE name = ?1), ?2)))");
            if (!st) return st.error();
            Result<void> b = st->bind_text(1, kLastRetention);
            if (b) b = st->bind(2, now_unix);
            if (!b) return b.error();
            if (auto r = st->run(); !r) return r.error();
        }
        if (auto r = im.advance_clock_anchor(now_unix, options.clock_confirmed); !r)
            return r.error();
        if (auto r = tx->commit(); !r) return r.error();
        if (report.sightings + report.own_keys + report.exposure_records + report.processed_files >
            0) {
            if (auto r = im.compact(); !r) return r.error();
        }
        return report;
    });
}

Result<void> EncounterStore::erase_all(std::optional<std::int64_t> erased_at_ms) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        {
            auto tx = Transaction::begin(im.db);
            if (!tx) return tx.error();
            // secure_delete is on: freed cells and pages are overwritten, not just unlinked. The
            // clock anchor (a time, nothing about the user) stays: without it, what is heard after
            // the erase could not be told from a clock that jumps later (apply_retention). So
            // does the erase mark, replaced by this erase's when it has one.
            if (auto r = im.db.exec("DELETE FROM sightings; DELETE FROM own_keys; "
                                    "DELETE FROM exposure_records; DELETE FROM processed_files; "
                                    "DELETE FROM store_meta WHERE name NOT IN "
                                    "('clock_anchor', 'erased_at_ms');");
                !r)
                return r.error();
            if (auto r = im.db.exec("DELETE FROM key_publications;"); !r) return r.error();
            if (erased_at_ms) {
                // In the erase's own transaction: no crash leaves an erased store without its
                // mark, nor a mark on a store that was not erased.
                auto st = Statement::prepare(
                    im.db, "INSERT OR REPLACE INTO store_meta (name, value) VALUES (?1, ?2)");
                if (!st) return st.error();
                Result<void> b = st->bind_text(1, Impl::kErasedAtName);
                if (b) b = st->bind(2, *erased_at_ms);
                if (!b) return b.error();
                if (auto r = st->run(); !r) return r.error();
            }
            if (auto r = tx->commit(); !r) return r.error();
        }
        return im.compact();
    });
}

Result<std::optional<std::int64_t>> EncounterStore::erased_at() const {
    return guarded(impl_, [&](Impl& im) -> Result<std::optional<std::int64_t>> {
        auto st = Statement::prepare(im.db, "SELECT value FROM store_meta WHERE name = ?1");
        if (!st) return st.error();
        if (auto b = st->bind_text(1, Impl::kErasedAtName); !b) return b.error();
        auto row = st->step();
        if (!row) return row.error();
        if (!*row || st->column_is_null(0)) return std::optional<std::int64_t>();
        return std::optional<std::int64_t>(st->column_int(0));
    });
}

Result<void> EncounterStore::verify() const {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        auto r = Impl::verify_store(im);
        // A read-only check of a damaged store leaves no -wal/-shm of its own behind.
        if (!r && im.side_files_new) im.drop_side_files = true;
        return r;
    });
}

Result<void> EncounterStore::Impl::verify_store(Impl& im) {
    {
        auto fail = [](const Error& e) -> Result<void> {
            if (e.code == ErrorCode::kStorageIo || e.code == ErrorCode::kStorageCorrupt)
                return corrupt("store: integrity check failed");
            return e;
        };
        {
            auto st = Statement::prepare(im.db, "PRAGMA integrity_check");
            if (!st) return fail(st.error());
            std::size_t rows = 0;
            bool ok_row = false;
            while (true) {
                auto row = st->step();
                if (!row) return fail(row.error());
                if (!*row) break;
                ++rows;
                ok_row = st->column_text(0) == "ok";
            }
            if (rows != 1 || !ok_row) return corrupt("store: integrity check failed");
        }
        auto app = im.db.query_int("PRAGMA application_id");
        auto version = im.db.query_int("PRAGMA user_version");
        if (!app || !version || *app != detail::kApplicationId || *version != kSchemaVersion)
            return corrupt("store: integrity check failed (header)");
        // Every row must decode.
        {
            auto st = Statement::prepare(im.db, detail::kSelectSightings);
            if (!st) return fail(st.error());
            while (true) {
                auto row = st->step();
                if (!row) return fail(row.error());
                if (!*row) break;
                if (auto s = detail::read_sighting(*st); !s) return s.error();
            }
        }
        auto bad_aems =
            im.db.query_int("SELECT count(*) FROM sightings WHERE aem != substr(data, 1, 4)");
        if (!bad_aems) return fail(bad_aems.error());
        if (*bad_aems != 0) return corrupt("store: malformed sighting row");
        auto bad_keys = im.db.query_int(
            "SELECT count(*) FROM own_keys WHERE length(tek) != 16 OR rolling_period NOT BETWEEN 1 "
            "AND "
            "144 OR rolling_start < 0");
        if (!bad_keys) return fail(bad_keys.error());
        if (*bad_keys != 0) return corrupt("store: malformed own-key row");
        auto bad_publications = im.db.query_int(
            "SELECT count(*) FROM key_publications WHERE typeof(tek) != 'blob' "
            "OR length(tek) != 16 OR typeof(window_end) != 'integer' "
            "OR window_end NOT BETWEEN 0 AND 4294967295 OR typeof(published_at) != 'integer' "
            "OR published_at < 0");
        if (!bad_publications) return fail(bad_publications.error());
        if (*bad_publications != 0) return corrupt("store: malformed key-publication row");
        return ok();
    }
}

Result<StoreStats> EncounterStore::stats() const {
    return guarded(impl_, [&](Impl& im) -> Result<StoreStats> {
        StoreStats s;
        struct Q {
            const char* sql;
            std::uint64_t* out;
        };
        const Q queries[] = {
            {"SELECT count(*) FROM sightings", &s.sightings},
            {"SELECT count(DISTINCT rpi) FROM sightings", &s.rpis},
            {"SELECT count(*) FROM own_keys", &s.own_keys},
            {"SELECT count(*) FROM exposure_records", &s.exposure_records},
            {"SELECT count(*) FROM processed_files", &s.processed_files},
            {"SELECT count(*) FROM key_publications", &s.key_publications},
        };
        for (const Q& q : queries) {
            auto v = im.db.query_int(q.sql);
            if (!v) return v.error();
            *q.out = static_cast<std::uint64_t>(*v);
        }
        // Days from the distinct intervals: one index seek per interval instead of a full scan.
        auto intervals = im.intervals();
        if (!intervals) return intervals.error();
        std::uint32_t last_day = 0;
        for (const core::IntervalNumber iv : *intervals) {
            const std::uint32_t day = core::day_number(iv);
            if (s.days == 0 || day != last_day) ++s.days;
            last_day = day;
        }
        return s;
    });
}
}  // namespace sotto::store
