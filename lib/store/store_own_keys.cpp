// The device's own TEKs.
#include <limits>

#include "store/rows.hpp"
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::bind_all;
using detail::collect_rows;
using detail::corrupt;
using detail::guarded;
using detail::Statement;
using detail::StatementReset;
using detail::Transaction;

Result<void> EncounterStore::add_own_key(const core::ExposureKey& key, std::int64_t created_unix) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        if (key.rolling_period < 1 || key.rolling_period > core::kTekRollingPeriod)
            return make_error(ErrorCode::kInvalidArgument, "store: rolling period must be 1..144");
        auto tx = Transaction::begin(im.db);
        if (!tx) return tx.error();
        const auto tek =
            key.tek.expose_secret();  // bound SQLITE_STATIC: SQLite makes no copy of its own
        {
            auto st = Statement::prepare(
                im.db, "SELECT rolling_start, rolling_period FROM own_keys WHERE tek = ?1");
            if (!st) return st.error();
            if (auto b = st->bind(1, std::span<const std::uint8_t>(tek)); !b) return b.error();
            auto row = st->step();
            if (!row) return row.error();
            if (*row) {
                if (st->column_int(0) != key.rolling_start ||
                    st->column_int(1) != key.rolling_period)
                    return make_error(ErrorCode::kInvalidArgument,
                                      "store: this TEK is stored with another validity");
                st->reset();
                return tx->commit();  // already stored: nothing to do
            }
            st->reset();
        }
        auto st =
            Statement::prepare(im.db,
                               "INSERT INTO own_keys (tek, rolling_start, rolling_period, created, "
                               "published) VALUES (?1, ?2, ?3, ?4, 0)");
        if (!st) return st.error();
        StatementReset reset(*st);
        if (auto b = bind_all(*st, std::span<const std::uint8_t>(tek),
                              static_cast<std::int64_t>(key.rolling_start),
                              static_cast<std::int64_t>(key.rolling_period), created_unix);
            !b)
            return b.error();
        if (auto r = st->run(); !r) return r.error();
        return tx->commit();
    });
}

Result<std::vector<OwnKey>> EncounterStore::own_keys() const {
    return guarded(impl_, [&](Impl& im) -> Result<std::vector<OwnKey>> {
        auto st =
            Statement::prepare(im.db,
                               "SELECT tek, rolling_start, rolling_period, created, published FROM "
                               "own_keys ORDER BY rolling_start, created, tek");
        if (!st) return st.error();
        return collect_rows<OwnKey>(*st, [](const Statement& row) -> Result<OwnKey> {
            const auto tek = row.column_blob(0);
            const std::int64_t start = row.column_int(1);
            const std::int64_t period = row.column_int(2);
            if (tek.size() != core::kTekBytes || start < 0 ||
                start > std::numeric_limits<core::IntervalNumber>::max() || period < 1 ||
                period > core::kTekRollingPeriod)
                return corrupt("store: malformed own-key row");
            OwnKey k;
            k.key.tek = core::TemporaryExposureKey::from(tek.first<core::kTekBytes>());
            k.key.rolling_start = static_cast<core::IntervalNumber>(start);
            k.key.rolling_period = static_cast<std::uint32_t>(period);
            k.created = row.column_int(3);
            k.published = row.column_int(4) != 0;
            return k;
        });
    });
}

Result<void> EncounterStore::mark_published(const core::TemporaryExposureKey& tek) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        auto st = Statement::prepare(im.db, "UPDATE own_keys SET published = 1 WHERE tek = ?1");
        if (!st) return st.error();
        StatementReset reset(*st);
        if (auto b = st->bind(1, std::span<const std::uint8_t>(tek.expose_secret())); !b)
            return b.error();
        if (auto r = st->run(); !r) return r.error();
        if (im.db.changes() == 0)
            return make_error(ErrorCode::kInvalidArgument, "store: no such own key");
        return ok();
    });
}
}  // namespace sotto::store
