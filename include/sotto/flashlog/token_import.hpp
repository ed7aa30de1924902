#pragma once
/// \file
/// `sotto token import`: a token's export stream into the host's encrypted store, after which
/// matching runs as for anything the host heard itself (docs/embedded.md, "Hand-over").

#include <array>
#include <cstdint>
#include <span>

#include <sotto/result.hpp>
#include <sotto/store/encounter_store.hpp>

namespace sotto::flashlog {

struct TokenImportReport {
    std::uint32_t sequence = 0;    ///< the export's sequence number
    std::size_t own_keys = 0;      ///< the token's TEKs (stored as the store's own keys)
    std::size_t rows = 0;          ///< heard rows in the export
    std::size_t new_rows = 0;      ///< rows not yet in the store (the others were imported before)
    std::size_t expired_rows = 0;  ///< rows older than the store's retention, not stored
    std::size_t refused_observations = 0;  ///< refused by the store (e.g. in the future)
};

/// Authenticates `stream` with `pairing_key` (nothing is read before that), refuses a replay,
/// then stores the token's TEKs as own keys and its rows as sightings (a row becomes the packets
/// of two scans: its strongest RSSI and its mean, at the start and middle of its interval; rows
/// already in the store are skipped, so a later export of the same log adds only what is new).
///
/// Replays: every export carries a sequence number that the token raises before each export.
/// The store records, per token, every number up to the newest accepted (as processed-file
/// entries), and an export whose number is recorded is refused with kFailedPrecondition.
/// Errors: as `read_export` (kAuthenticationFailed, kInvalidArgument, kStorageCorrupt), or the
/// store's. The replay record is written before the data: a crash in between loses nothing that
/// a fresh export from the token does not bring back.
Result<TokenImportReport> import_token_export(store::EncounterStore& store,
                                              std::span<const std::uint8_t> stream,
                                              std::span<const std::uint8_t, 32> pairing_key,
                                              std::int64_t now_unix);

}  // namespace sotto::flashlog
