// The clock anchor: the time the store last trusted, against which `apply_retention` judges the
// clock. Data written under a clock never vouches for that clock: the anchor is written only when
// retention runs (or, once, when a store without one is opened for writing, from the data already
// in it).
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::guarded;
using detail::Statement;

namespace {

// The latest time the store's data can vouch for: the end of the newest sighting's interval, the
// newest own key's creation and the last retention run (written by every version since schema 3).
constexpr char kNewestData[] =
    "SELECT max(t) FROM ("
    " SELECT (max(interval) + 1) * 600 AS t FROM sightings"
    " UNION ALL SELECT max(created) FROM own_keys"
    " UNION ALL SELECT value FROM store_meta WHERE name = 'last_retention')";

Result<std::optional<std::int64_t>> query_optional(detail::Database& db, const char* sql,
                                                   const char* text_arg) {
    auto st = Statement::prepare(db, sql);
    if (!st) return st.error();
    if (text_arg != nullptr)
        if (auto b = st->bind_text(1, text_arg); !b) return b.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row || st->column_is_null(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(st->column_int(0));
}

}  // namespace

Result<std::optional<std::int64_t>> EncounterStore::Impl::read_clock_anchor() {
    return query_optional(db, "SELECT value FROM store_meta WHERE name = ?1", kClockAnchorName);
}

Result<std::optional<std::int64_t>> EncounterStore::Impl::newest_data_time() {
    return query_optional(db, kNewestData, nullptr);
}

Result<void> EncounterStore::Impl::init_clock_anchor() {
    auto anchor = read_clock_anchor();
    if (!anchor) return anchor.error();
    if (*anchor) return ok();
    auto newest = newest_data_time();
    if (!newest) return newest.error();
    if (!*newest) return ok();  // an empty store: nothing a wrong clock could delete
    auto r = advance_clock_anchor(**newest);
    // A store at its size cap still opens (retention is what frees space): without an anchor,
    // retention judges the clock by the newest data instead.
    if (!r && r.error().code == ErrorCode::kStorageFull) return ok();
    return r;
}

Result<void> EncounterStore::Impl::judge_clock(std::int64_t now, bool confirmed) {
    if (confirmed) return ok();
    auto anchor = read_clock_anchor();
    if (!anchor) return anchor.error();
    std::optional<std::int64_t> trusted = *anchor;
    if (!trusted) {
        // No anchor: the store was empty when this process opened it and retention has not run
        // since (or it was opened at its size cap). What this process wrote stands in; an empty
        // store accepts any clock (nothing to lose), and its first run sets the anchor.
        auto newest = newest_data_time();
        if (!newest) return newest.error();
        trusted = *newest;
    }
    if (!trusted) return ok();
    // Both ways: an anchor set by a wrong clock (far ahead) must not let a later jump up to it
    // pass, and a clock far behind is as wrong as one far ahead.
    if (now - *trusted > kMaxClockJumpSeconds || *trusted - now > kMaxClockJumpSeconds)
        return make_error(ErrorCode::kClockSuspect,
                          "store: the clock is more than 3 days from the last time the store "
                          "trusted; nothing deleted");
    return ok();
}

Result<void> EncounterStore::Impl::advance_clock_anchor(std::int64_t t, bool exact) {
    // Forward only, unless the host confirmed the clock: a clock set back must not pull it back,
    // but a confirmed time replaces an anchor a wrong clock set.
    auto stmt = Statement::prepare(
        db, exact ? "INSERT OR REPLACE INTO store_meta (name, value) VALUES (?1, ?2)"
                  : "INSERT OR REPLACE INTO store_meta (name, value) VALUES (?1, "
                    "max(?2, coalesce((SELECT value FROM store_meta WHERE name = ?1), ?2)))");
    if (!stmt) return stmt.error();
    Result<void> b = stmt->bind_text(1, kClockAnchorName);
    if (b) b = stmt->bind(2, t);
    if (!b) return b.error();
    return stmt->run();
}

Result<std::optional<std::int64_t>> EncounterStore::clock_anchor() const {
    return guarded(impl_, [&](Impl& im) { return im.read_clock_anchor(); });
}

}  // namespace sotto::store
