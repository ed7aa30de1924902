// Exposure results and the diagnosis-key files already matched.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

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

namespace {

bool is_hex_digest(std::string_view h) {
    return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

std::string lower(std::string_view h) {
    std::string s(h);
    for (char& c : s)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

namespace {

Result<void> check_records(std::span<const ExposureRecord> records) {
    for (const auto& r : records)
        if (r.risk_level < 0 || r.risk_level > 2)
            return make_error(ErrorCode::kInvalidArgument, "store: risk level must be 0..2");
    return ok();
}

Result<bool> is_processed(detail::Database& db, const std::string& digest) {
    auto st = Statement::prepare(db, "SELECT 1 FROM processed_files WHERE sha256 = ?1");
    if (!st) return st.error();
    StatementReset reset(*st);
    if (auto b = st->bind_text(1, digest); !b) return b.error();
    return st->step();
}

Result<void> insert_processed(detail::Database& db, const std::string& digest,
                              std::int64_t now_unix, std::uint32_t keys) {
    auto st = Statement::prepare(db,
                                 "INSERT OR REPLACE INTO processed_files (sha256, processed_at, "
                                 "keys) VALUES (?1, ?2, ?3)");
    if (!st) return st.error();
    StatementReset reset(*st);
    Result<void> b = st->bind_text(1, digest);
    if (b) b = st->bind(2, now_unix);
    if (b) b = st->bind(3, static_cast<std::int64_t>(keys));
    if (!b) return b.error();
    return st->run();
}

}  // namespace

namespace detail {

Result<void> insert_exposure_records(Database& db, std::span<const ExposureRecord> records) {
    if (records.empty()) return ok();
    auto st =
        Statement::prepare(db,
                           "INSERT INTO exposure_records (computed_at, day, risk_level, windows, "
                           "weighted_minutes, min_attenuation_db) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return st.error();
    for (const auto& rec : records) {
        StatementReset reset(*st);
        if (auto b = bind_all(*st, rec.computed_at, static_cast<std::int64_t>(rec.day),
                              static_cast<std::int64_t>(rec.risk_level),
                              static_cast<std::int64_t>(rec.windows), rec.weighted_minutes,
                              static_cast<std::int64_t>(rec.min_attenuation_db));
            !b)
            return b.error();
        if (auto r = st->run(); !r) return r.error();
    }
    return ok();
}

}  // namespace detail

Result<void> EncounterStore::add_exposure_records(std::span<const ExposureRecord> records) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        if (auto r = check_records(records); !r) return r.error();
        if (records.empty()) return ok();
        auto tx = Transaction::begin(im.db);
        if (!tx) return tx.error();
        if (auto r = detail::insert_exposure_records(im.db, records); !r) return r.error();
        return tx->commit();
    });
}

Result<bool> EncounterStore::record_check(std::span<const ExposureRecord> records,
                                          std::span<const core::KeyPublication> publications,
                                          std::span<const ProcessedFile> files,
                                          std::int64_t now_unix) {
    return guarded(impl_, [&](Impl& im) -> Result<bool> {
        if (auto r = im.writable(); !r) return r.error();
        if (auto r = check_records(records); !r) return r.error();
        for (const auto& p : publications)
            if (p.published_at < 0)
                return make_error(ErrorCode::kInvalidArgument,
                                  "store: publication time must not be negative");
        std::vector<std::string> digests;
        digests.reserve(files.size());
        for (const auto& f : files) {
            if (!is_hex_digest(f.sha256_hex))
                return make_error(ErrorCode::kInvalidArgument,
                                  "store: SHA-256 must be 64 hex digits");
            digests.push_back(lower(f.sha256_hex));
        }
        auto tx = Transaction::begin(im.db);
        if (!tx) return tx.error();
        // Decided inside the transaction: a check whose files were all recorded meanwhile (by
        // an earlier attempt, or another connection) records nothing again.
        bool any_new = false;
        std::vector<bool> is_new(files.size(), false);
        for (std::size_t i = 0; i < files.size(); ++i) {
            auto done = is_processed(im.db, digests[i]);
            if (!done) return done.error();
            is_new[i] = !*done;
            any_new = any_new || is_new[i];
        }
        if (!any_new) return false;  // the transaction rolls back: it wrote nothing
        if (auto r = detail::insert_exposure_records(im.db, records); !r) return r.error();
        if (auto r = detail::insert_key_publications(im.db, publications); !r) return r.error();
        for (std::size_t i = 0; i < files.size(); ++i) {
            if (!is_new[i]) continue;
            if (auto r = insert_processed(im.db, digests[i], now_unix, files[i].keys); !r)
                return r.error();
        }
        if (auto c = tx->commit(); !c) return c.error();
        return true;
    });
}

Result<std::vector<ExposureRecord>> EncounterStore::exposure_records() const {
    return guarded(impl_, [&](Impl& im) -> Result<std::vector<ExposureRecord>> {
        auto st = Statement::prepare(
            im.db,
            "SELECT computed_at, day, risk_level, windows, weighted_minutes, "
            "min_attenuation_db FROM exposure_records ORDER BY day, computed_at, id");
        if (!st) return st.error();
        return collect_rows<ExposureRecord>(
            *st, [](const Statement& row) -> Result<ExposureRecord> {
                ExposureRecord r;
                r.computed_at = row.column_int(0);
                const std::int64_t day = row.column_int(1);
                const std::int64_t windows = row.column_int(3);
                const std::int64_t att = row.column_int(5);
                r.risk_level = static_cast<int>(row.column_int(2));
                if (day < 0 || day > std::numeric_limits<std::uint32_t>::max() || windows < 0 ||
                    windows > std::numeric_limits<std::uint32_t>::max() || r.risk_level < 0 ||
                    r.risk_level > 2 || att < std::numeric_limits<int>::min() ||
                    att > std::numeric_limits<int>::max())
                    return corrupt("store: malformed exposure record");
                r.day = static_cast<std::uint32_t>(day);
                r.windows = static_cast<std::uint32_t>(windows);
                r.weighted_minutes = row.column_double(4);
                r.min_attenuation_db = static_cast<int>(att);
                return r;
            });
    });
}

Result<void> EncounterStore::mark_file_processed(std::string_view sha256_hex, std::int64_t now_unix,
                                                 std::uint32_t keys) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        if (!is_hex_digest(sha256_hex))
            return make_error(ErrorCode::kInvalidArgument, "store: SHA-256 must be 64 hex digits");
        return insert_processed(im.db, lower(sha256_hex), now_unix, keys);
    });
}

Result<bool> EncounterStore::file_processed(std::string_view sha256_hex) const {
    return guarded(impl_, [&](Impl& im) -> Result<bool> {
        if (!is_hex_digest(sha256_hex))
            return make_error(ErrorCode::kInvalidArgument, "store: SHA-256 must be 64 hex digits");
        return is_processed(im.db, lower(sha256_hex));
    });
}
}  // namespace sotto::store
