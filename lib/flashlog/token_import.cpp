#include <sotto/flashlog/token_import.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/flashlog/export_reader.hpp>

namespace sotto::flashlog {
namespace {

// The processed-file entry that records "export `seq` of token `id` was seen".
std::string replay_id(const std::array<std::uint8_t, 8>& id, std::uint32_t seq) {
    static constexpr char kDomain[] = "sotto-token-export";
    std::uint8_t msg[sizeof kDomain - 1 + 8 + 4];
    std::memcpy(msg, kDomain, sizeof kDomain - 1);
    std::memcpy(msg + sizeof kDomain - 1, id.data(), 8);
    for (std::size_t i = 0; i < 4; ++i)
        msg[sizeof kDomain - 1 + 8 + i] = static_cast<std::uint8_t>(seq >> (8 * i));
    std::uint8_t h[32];
    portable::sha256(msg, h);
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto b : h) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

// How far back the replay record is filled in below a newly accepted sequence number.
constexpr std::uint32_t kMaxBackfill = 4096;

}  // namespace

Result<TokenImportReport> import_token_export(store::EncounterStore& store,
                                              std::span<const std::uint8_t> stream,
                                              std::span<const std::uint8_t, 32> pairing_key,
                                              std::int64_t now_unix) {
    auto ex = read_export(stream, pairing_key);
    if (!ex) return ex.error();
    if (ex->sequence == 0)
        return make_error(ErrorCode::kStorageCorrupt, "token export: sequence number 0");
    auto seen = store.file_processed(replay_id(ex->token_id, ex->sequence));
    if (!seen) return seen.error();
    if (*seen)
        return make_error(ErrorCode::kFailedPrecondition,
                          "token export: already imported, or older than an imported one (replay)");
    // Record this number and every lower one not yet recorded (stop at the first that is).
    for (std::uint32_t s = ex->sequence, n = 0; s >= 1 && n < kMaxBackfill; --s, ++n) {
        const std::string id = replay_id(ex->token_id, s);
        if (s != ex->sequence) {
            auto done = store.file_processed(id);
            if (!done) return done.error();
            if (*done) break;
        }
        if (auto r = store.mark_file_processed(id, now_unix, 0); !r) return r.error();
    }

    TokenImportReport report;
    report.sequence = ex->sequence;
    for (const auto& k : ex->teks) {
        if (auto r = store.add_own_key(k, static_cast<std::int64_t>(k.rolling_start) * 600); !r)
            return r.error();
        ++report.own_keys;
    }
    report.rows = ex->rows.size();
    // What the store already holds of these days, so a second export adds only new rows.
    using Key = std::tuple<core::IntervalNumber, core::RollingProximityId,
                           core::AssociatedEncryptedMetadata>;
    std::set<Key> have;
    std::set<std::uint32_t> days;
    for (const auto& r : ex->rows) days.insert(r.day);
    for (std::uint32_t day : days) {
        auto s = store.sightings_on_day(day);
        if (!s) return s.error();
        for (const auto& x : *s) have.insert({x.interval, x.rpi, x.aem});
    }
    const std::int64_t oldest_kept =
        now_unix - static_cast<std::int64_t>(store::kDefaultRetentionDays) * 86400;
    std::vector<core::Observation> obs;
    for (const auto& [day, row] : ex->rows) {
        const core::IntervalNumber interval = day * core::kTekRollingPeriod + row.interval;
        const std::int64_t start = static_cast<std::int64_t>(interval) * 600;
        if (have.count({interval, row.rpi, row.aem}) != 0) continue;
        if (start + 600 <= oldest_kept) {
            ++report.expired_rows;
            continue;
        }
        have.insert({interval, row.rpi, row.aem});
        ++report.new_rows;
        core::Observation o;
        o.beacon = {row.rpi, row.aem};
        o.time = start;
        o.rssi = row.rssi_max;
        obs.push_back(o);
        if (row.count > 1) {
            o.time = start + 300;
            o.rssi = row.rssi_mean;
            obs.push_back(o);
        }
    }
    if (!obs.empty()) {
        auto r = store.ingest(obs, now_unix);
        if (!r) return r.error();
        report.refused_observations = obs.size() - r->accepted;
    }
    return report;
}

}  // namespace sotto::flashlog
