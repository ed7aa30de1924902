#pragma once
/// \file
/// The parallel matching engine: runs `core::KeyMatcher` over many keys on several threads with
/// deterministic output.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <sotto/core/matcher.hpp>
#include <sotto/match/options.hpp>
#include <sotto/result.hpp>

namespace sotto::match {

/// Matches batches of diagnosis keys against a fixed set of sightings.
///
/// The output of `match_keys` does not depend on the number of threads: matched sightings come in
/// key order, then RPI interval order, then by time. Thread-safety: `match_keys` may be called from
/// one thread at a time; it starts and joins its own workers.
class MatchEngine {
public:
    /// Indexes `sightings`; the hash seed comes from the system RNG.
    static Result<MatchEngine> create(std::vector<core::Sighting> sightings,
                                      const EngineOptions& options);
    MatchEngine(MatchEngine&&) noexcept;
    MatchEngine& operator=(MatchEngine&&) noexcept;
    ~MatchEngine();

    const core::SightingIndex& index() const noexcept;
    const EngineOptions& options() const noexcept;

    /// Matches `keys`; `MatchedSighting::key_index` is `first_key_index` + the position in `keys`.
    /// Keys with report type REVOKED or an impossible rolling period are skipped and counted.
    /// kInvalidArgument for bad matcher options; kInternal if a worker runs out of memory.
    Result<std::vector<core::MatchedSighting>> match_keys(std::span<const core::DiagnosisKey> keys,
                                                          std::uint32_t first_key_index = 0);

    /// Totals over every `match_keys` call so far (keys checked, skipped, revoked, invalid...).
    const core::MatchCounters& counters() const noexcept;

private:
    struct Impl;
    explicit MatchEngine(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto::match
