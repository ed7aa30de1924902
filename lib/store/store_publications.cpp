// When diagnosis keys were first published (the publication rule's memory across checks).
#include <algorithm>
#include <limits>

#include "store/store_impl.hpp"

namespace sotto::store {

using detail::corrupt;
using detail::guarded;
using detail::Statement;
using detail::StatementReset;
using detail::Transaction;

namespace detail {

Result<void> insert_key_publications(Database& db,
                                     std::span<const core::KeyPublication> publications) {
    // SQLite 3.15 has no UPSERT: insert the new ones, then move earlier times into the rest.
    auto insert =
        Statement::prepare(db,
                           "INSERT OR IGNORE INTO key_publications (tek, window_end, published_at) "
                           "VALUES (?1, ?2, ?3)");
    if (!insert) return insert.error();
    auto earlier = Statement::prepare(db,
                                      "UPDATE key_publications SET window_end = ?2, "
                                      "published_at = ?3 WHERE tek = ?1 AND published_at > ?3");
    if (!earlier) return earlier.error();
    for (const auto& p : publications) {
        for (Statement* st : {&*insert, &*earlier}) {
            StatementReset reset(*st);
            Result<void> b = st->bind(1, std::span<const std::uint8_t>(p.tek));
            if (b) b = st->bind(2, static_cast<std::int64_t>(p.window_end));
            if (b) b = st->bind(3, p.published_at);
            if (!b) return b.error();
            if (auto r = st->run(); !r) return r.error();
            if (st == &*insert && db.changes() > 0) break;  // a new row: nothing to lower
        }
    }
    return ok();
}

}  // namespace detail

Result<void> EncounterStore::remember_key_publications(
    std::span<const core::KeyPublication> publications) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        for (const auto& p : publications)
            if (p.published_at < 0)
                return make_error(ErrorCode::kInvalidArgument,
                                  "store: publication time must not be negative");
        if (publications.empty()) return ok();
        auto tx = Transaction::begin(im.db);
        if (!tx) return tx.error();
        if (auto r = detail::insert_key_publications(im.db, publications); !r) return r.error();
        return tx->commit();
    });
}

Result<std::vector<core::KeyPublication>> EncounterStore::key_publications() const {
    return guarded(impl_, [&](Impl& im) -> Result<std::vector<core::KeyPublication>> {
        auto st = Statement::prepare(
            im.db, "SELECT tek, window_end, published_at FROM key_publications ORDER BY tek");
        if (!st) return st.error();
        std::vector<core::KeyPublication> out;
        while (true) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            const auto tek = st->column_blob(0);
            const std::int64_t end = st->column_int(1);
            const std::int64_t at = st->column_int(2);
            if (tek.size() != core::kTekBytes || end < 0 ||
                end > std::numeric_limits<core::IntervalNumber>::max() || at < 0)
                return corrupt("store: malformed key-publication row");
            core::KeyPublication p;
            std::copy(tek.begin(), tek.end(), p.tek.begin());
            p.window_end = static_cast<core::IntervalNumber>(end);
            p.published_at = at;
            out.push_back(p);
        }
        return out;
    });
}

}  // namespace sotto::store
