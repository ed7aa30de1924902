#pragma once
/// \file
/// The whole exposure check: key files in, verified, matched against the encrypted store, and
/// turned into exposure windows and a risk, on the device and nowhere else.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/match/report.hpp>
#include <sotto/match/session.hpp>
#include <sotto/result.hpp>
#include <sotto/store/encounter_store.hpp>

namespace sotto::match {

struct CheckOptions {
    EngineOptions engine;
    ReportOptions report;
    /// kRequireSignature: files that do not verify are refused and their keys never matched.
    /// kParseOnly (explicit opt-out, e.g. `--no-verify`): every readable file is matched.
    keyfile::VerifyMode verify = keyfile::VerifyMode::kRequireSignature;
    keyfile::ReadOptions read;
    /// Keys per batch handed to the engine.
    std::size_t batch_keys = 1 << 16;
    /// Store the day results and the files' hashes in the store (exposure records).
    bool record_results = true;
};

/// What happened to one key file.
struct FileOutcome {
    std::filesystem::path path;
    bool read = false;      ///< parsed completely
    bool verified = false;  ///< signature verified with a trusted key
    bool matched = false;   ///< its keys were matched (read, and verified unless kParseOnly)
    Error error{ErrorCode::kOk, ""};  ///< why it was refused or unreadable
    keyfile::ExportInfo info;         ///< header fields, counts, signature details (when read)
};

struct CheckResult {
    std::vector<FileOutcome> files;
    std::vector<RpiMatch> matches;  ///< valid and suspect
    ExposureReport report;
    SessionCounters keys;           ///< keys of matched files
    core::MatchCounters matcher;
    std::size_t sightings = 0;      ///< sightings checked
};

/// Loads the sightings of `store` within its retention window as of `now_unix` (nothing is
/// deleted), reads each file (zip, loose export.bin + export.sig, or a
/// directory holding both) with `trust`, matches the keys of the files that may be used, and
/// builds the report at `now_unix`. A refused or unreadable file is reported in `files` and does
/// not stop the others. Fails only when the store or the engine fails.
Result<CheckResult> check_exposures(store::EncounterStore& store,
                                    std::span<const std::filesystem::path> files,
                                    const keyfile::TrustStore& trust, std::int64_t now_unix,
                                    const CheckOptions& options = {});

}  // namespace sotto::match
