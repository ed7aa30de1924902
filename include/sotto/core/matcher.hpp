#pragma once
/// \file
/// Matching diagnosis keys against recorded sightings (EN Crypto Spec v1.2 "Matching").
///
/// `SightingIndex` is built once from the sightings to check and is immutable afterwards, so any
/// number of threads may read it. Each thread owns a `KeyMatcher` (it holds a cipher context and
/// buffers) and feeds it keys. The matcher is pure: threads, files and the store live above it
/// (`sotto::match::MatchEngine`).
///
/// For every key the matcher derives the RPIs of the intervals that could have been heard and looks
/// them up; a hit is then checked:
///
/// * the sighting's interval must lie within `tolerance_intervals` of the RPI's own interval;
/// * the RPI's interval must lie within the key's validity `[start, start + period)`;
/// * the AEM must decrypt to well-formed metadata (`validate_metadata`);
/// * sightings of one RPI more than `replay_window_seconds` after its first valid sighting are
///   replays (an RPI is broadcast for at most about 20 minutes).
///
/// Each sighting holds the packets of one AEM and is judged on its own, so a forged or garbled
/// copy of an RPI cannot take the genuine sighting down with it. When the sightings of an RPI
/// carry different AEMs (or a sighting knows of AEMs it did not keep), all of them are marked
/// `metadata_disputed`: nobody can tell from BLE data which copy is genuine, so each keeps its own
/// metadata, and the layers above score every packet only with the metadata it carried.
///
/// A hit that fails a check is reported as `MatchStatus::kSuspect` with a reason, never as a valid
/// exposure.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/match_options.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>

namespace sotto::core {

/// One stored sighting whose RPI belongs to a diagnosis key.
struct MatchedSighting {
    std::uint32_t key_index = 0;       ///< index of the key in the caller's numbering
    IntervalNumber rpi_interval = 0;   ///< the interval the RPI was generated for
    std::uint32_t sighting_index = 0;  ///< index into `SightingIndex::sightings()`
    MetadataBytes metadata{};          ///< the decrypted AEM
    MatchStatus status = MatchStatus::kValid;
    const char* reason = "";  ///< static text; empty when valid
    /// The RPI was heard with more than one AEM: this sighting's metadata may be forged.
    bool metadata_disputed = false;
};

/// Counters of one matcher (sum them across threads).
struct MatchCounters {
    std::uint64_t keys_checked = 0;  ///< keys whose RPIs were derived
    std::uint64_t keys_skipped = 0;  ///< keys with no sighting in reach (prefilter)
    std::uint64_t rpis_derived = 0;
    std::uint64_t rpis_matched = 0;  ///< derived RPIs found in the index
    std::uint64_t keys_revoked = 0;  ///< report type REVOKED: never matched
    std::uint64_t keys_invalid = 0;  ///< rolling period outside 1..144 (match_batch)
    MatchCounters& operator+=(const MatchCounters& o) noexcept {
        keys_revoked += o.keys_revoked;
        keys_invalid += o.keys_invalid;
        keys_checked += o.keys_checked;
        keys_skipped += o.keys_skipped;
        rpis_derived += o.rpis_derived;
        rpis_matched += o.rpis_matched;
        return *this;
    }
};

/// The sightings to match, indexed by RPI and by interval. Immutable and thread-safe once built.
class SightingIndex {
public:
    /// Takes the sightings (any order; several rows per RPI allowed). `seed` keys the hash so that
    /// crafted RPIs cannot degrade lookups; pass random bytes in production.
    static SightingIndex build(std::vector<Sighting> sightings, std::uint64_t seed);

    SightingIndex(SightingIndex&&) noexcept;
    SightingIndex& operator=(SightingIndex&&) noexcept;
    ~SightingIndex();

    const std::vector<Sighting>& sightings() const noexcept;
    /// Distinct RPIs in the index.
    std::size_t rpi_count() const noexcept;
    /// True when some sighting lies in the intervals `[first, last]`.
    bool any_sighting_in(IntervalNumber first, IntervalNumber last) const noexcept;
    /// Rows (indices into `sightings()`) of `rpi`, or an empty span.
    std::span<const std::uint32_t> find(const RollingProximityId& rpi) const noexcept;

    struct Impl;

private:
    explicit SightingIndex(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
    friend class KeyMatcher;
};

/// Matches keys against one index. Not thread-safe: one per thread.
class KeyMatcher {
public:
    /// `index` must outlive the matcher. kInvalidArgument for a tolerance above 144 intervals or a
    /// negative replay window.
    static Result<KeyMatcher> create(const SightingIndex& index, const MatchOptions& options);
    KeyMatcher(KeyMatcher&&) noexcept;
    KeyMatcher& operator=(KeyMatcher&&) noexcept;
    ~KeyMatcher();

    /// Checks one key and appends its matched sightings to `out`, grouped by RPI interval.
    /// Keys with report type REVOKED are skipped (and counted). kInvalidArgument for a rolling
    /// period outside 1..144.
    Result<void> match(const DiagnosisKey& key, std::uint32_t key_index,
                       std::vector<MatchedSighting>& out);

    /// Checks `keys` (key i gets index `first_key_index + i`), appending to `out` in key order.
    /// The same matches as `match` on each key, faster: keys go through in small groups whose HKDF
    /// runs four keys at a time. Keys with an impossible rolling period are skipped and counted
    /// (`keys_invalid`) instead of failing the batch.
    Result<void> match_batch(std::span<const DiagnosisKey> keys, std::uint32_t first_key_index,
                             std::vector<MatchedSighting>& out);

    const MatchCounters& counters() const noexcept;

private:
    struct Impl;
    explicit KeyMatcher(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto::core
