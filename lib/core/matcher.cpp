#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include <sotto/core/matcher.hpp>

#include "hkdf.hpp"
#include "matcher_filter.hpp"
#include "matcher_kernel.hpp"

namespace sotto::core {
namespace {

// Two levels: a blocked Bloom filter read 144 times per key, and a hash table read only for the
// few RPIs that pass it.
//
// The filter is indexed by the RPI's own bits, unhashed: the RPIs it is queried with are AES
// outputs, uniformly random, so a sighting an attacker crafts can at worst set bits in one filter
// word, which a random query hits with probability 1/words. The table is another matter: crafted
// stored RPIs could pile up in one probe run, so its slot hash is keyed with a per-index secret.
struct SlotHasher {
    std::uint64_t s0 = 0, s1 = 0;
    std::uint64_t operator()(const std::uint8_t* rpi) const noexcept {
        std::uint64_t h = (detail::load64(rpi) ^ s0) * 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        h ^= detail::load64(rpi + 8) ^ s1;
        h *= 0xc4ceb9fe1a85ec53ULL;
        return h ^ (h >> 29);
    }
};

using CandidateFn = std::size_t (*)(const std::uint64_t*, unsigned, const RollingProximityId*,
                                    std::size_t, std::uint8_t*) noexcept;

CandidateFn pick_candidate_fn() noexcept {
    return detail::filter_avx2_supported() ? detail::filter_candidates_avx2
                                           : detail::filter_candidates_scalar;
}

std::uint64_t splitmix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

struct SightingIndex::Impl {
    std::vector<Sighting> sightings;
    // Distinct RPIs, sorted, and for each the rows holding it (CSR layout).
    std::vector<RollingProximityId> rpis;
    std::vector<std::uint32_t> row_begin;  // rpis.size() + 1 entries
    std::vector<std::uint32_t> rows;
    // Open-addressing table: slot = 1 + index into `rpis`, 0 = empty.
    std::vector<std::uint32_t> table;
    std::size_t table_mask = 0;
    // Blocked Bloom filter in front of the table: two bits of one 64-bit word per RPI. Small enough
    // to stay in L2, so the 144 lookups per key rarely leave the core.
    std::vector<std::uint64_t> filter;
    unsigned filter_shift = 58;  // word index = first 8 RPI bytes (LE) >> filter_shift
    SlotHasher hasher;
    // Distinct receiver intervals that hold sightings, sorted.
    std::vector<IntervalNumber> intervals;

    bool maybe_contains(const RollingProximityId& rpi) const noexcept {
        const std::uint64_t w = detail::load64(rpi.bytes.data());
        const std::uint64_t bits = detail::filter_bits(w);
        return (filter[static_cast<std::size_t>(w >> filter_shift)] & bits) == bits;
    }

    std::span<const std::uint32_t> lookup(const RollingProximityId& rpi) const noexcept {
        for (std::size_t slot = static_cast<std::size_t>(hasher(rpi.bytes.data())) & table_mask;;
             slot = (slot + 1) & table_mask) {
            const std::uint32_t v = table[slot];
            if (v == 0) return {};
            if (rpis[v - 1] == rpi)
                return {rows.data() + row_begin[v - 1], row_begin[v] - row_begin[v - 1]};
        }
    }
};

SightingIndex::SightingIndex(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
SightingIndex::SightingIndex(SightingIndex&&) noexcept = default;
SightingIndex& SightingIndex::operator=(SightingIndex&&) noexcept = default;
SightingIndex::~SightingIndex() = default;

SightingIndex SightingIndex::build(std::vector<Sighting> sightings, std::uint64_t seed) {
    auto im = std::make_unique<Impl>();
    im->sightings = std::move(sightings);
    const auto& s = im->sightings;
    im->hasher = {splitmix(seed), splitmix(seed)};

    std::vector<std::uint32_t> order(s.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        if (s[a].rpi != s[b].rpi) return s[a].rpi < s[b].rpi;
        return a < b;
    });
    im->rows = order;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i == 0 || s[order[i]].rpi != s[order[i - 1]].rpi) {
            im->rpis.push_back(s[order[i]].rpi);
            im->row_begin.push_back(static_cast<std::uint32_t>(i));
        }
    }
    im->row_begin.push_back(static_cast<std::uint32_t>(order.size()));

    const std::size_t n = im->rpis.size();
    const std::size_t slots = std::bit_ceil(std::max<std::size_t>(16, 2 * n));
    im->table.assign(slots, 0);
    im->table_mask = slots - 1;
    // About 64 filter bits per RPI (at most 2^20 words, 8 MB), two of them set per RPI: about one
    // false positive in 5,000 lookups.
    const std::size_t words =
        std::min<std::size_t>(std::bit_ceil(std::max<std::size_t>(64, n)), std::size_t{1} << 20);
    im->filter.assign(words, 0);
    im->filter_shift = static_cast<unsigned>(64 - std::countr_zero(words));
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* rpi = im->rpis[i].bytes.data();
        const std::uint64_t w = detail::load64(rpi);
        im->filter[static_cast<std::size_t>(w >> im->filter_shift)] |= detail::filter_bits(w);
        std::size_t slot = static_cast<std::size_t>(im->hasher(rpi)) & im->table_mask;
        while (im->table[slot] != 0) slot = (slot + 1) & im->table_mask;
        im->table[slot] = static_cast<std::uint32_t>(i + 1);
    }

    im->intervals.reserve(s.size());
    for (const Sighting& x : s) im->intervals.push_back(x.interval);
    std::sort(im->intervals.begin(), im->intervals.end());
    im->intervals.erase(std::unique(im->intervals.begin(), im->intervals.end()),
                        im->intervals.end());
    return SightingIndex(std::move(im));
}

const std::vector<Sighting>& SightingIndex::sightings() const noexcept { return impl_->sightings; }
std::size_t SightingIndex::rpi_count() const noexcept { return impl_->rpis.size(); }

bool SightingIndex::any_sighting_in(IntervalNumber first, IntervalNumber last) const noexcept {
    auto it = std::lower_bound(impl_->intervals.begin(), impl_->intervals.end(), first);
    return it != impl_->intervals.end() && *it <= last;
}

std::span<const std::uint32_t> SightingIndex::find(const RollingProximityId& rpi) const noexcept {
    if (!impl_->maybe_contains(rpi)) return {};
    return impl_->lookup(rpi);
}

struct KeyMatcher::Impl {
    const SightingIndex::Impl& index;
    MatchOptions options;
    RpiDeriver deriver;
    MatchCounters counters;
    std::uint8_t candidates[kTekRollingPeriod];
    CandidateFn candidate_fn = pick_candidate_fn();
    // AES with the filter words prefetched where the CPU allows (matcher_kernel.hpp); else
    // RpiDeriver.
    detail::RpiKernel kernel = detail::rpi_kernel();
    std::vector<std::uint32_t> hit_rows;  // scratch

    // The kernel's PaddedData: the blocks of the intervals from a rolling start, one run per day
    // in a small direct-mapped cache (a file's keys start on a handful of days), as in RpiDeriver.
    static constexpr std::size_t kRuns = 16;
    struct BlockRun {
        alignas(64) std::uint8_t blocks[kTekRollingPeriod * 16];
        IntervalNumber first = 0;
        std::size_t length = 0;  // 0: empty
    };
    std::unique_ptr<BlockRun[]> runs;  // only with a kernel

    const std::uint8_t* run_blocks(IntervalNumber first, std::size_t n) noexcept {
        BlockRun& r = runs[(first / kTekRollingPeriod) % kRuns];
        if (r.length < n || r.first != first) {
            for (std::size_t i = 0; i < n; ++i) {
                const auto b = padded_data(static_cast<IntervalNumber>(first + i));
                std::memcpy(r.blocks + 16 * i, b.data(), 16);
            }
            r.first = first;
            r.length = n;
        }
        return r.blocks;
    }

    Impl(const SightingIndex::Impl& i, const MatchOptions& o, RpiDeriver d)
        : index(i), options(o), deriver(std::move(d)) {
        if (kernel != nullptr) runs = std::make_unique<BlockRun[]>(kRuns);
    }

    // Intervals that have a sighting within the tolerance, as sorted disjoint ranges [lo, hi]:
    // each sighting interval s reaches [s - tol, s + tol]. Built once per matcher.
    struct Range {
        std::int64_t lo, hi;
    };
    std::vector<Range> reach;

    void build_reach() {
        const std::int64_t tol = options.tolerance_intervals;
        for (IntervalNumber s : index.intervals) {
            const std::int64_t lo = static_cast<std::int64_t>(s) - tol,
                               hi = static_cast<std::int64_t>(s) + tol;
            if (!reach.empty() && lo <= reach.back().hi + 1)
                reach.back().hi = std::max(reach.back().hi, hi);
            else
                reach.push_back({lo, hi});
        }
    }

    // The pieces [offset, offset + length) of the key's intervals [start, start + span) that have
    // a sighting within the tolerance. Returns how many were written to `out` (at most 72).
    struct Piece {
        std::uint8_t offset, length;
    };
    std::size_t reachable_pieces(IntervalNumber start, std::size_t span,
                                 Piece* out) const noexcept {
        const std::int64_t lo = start, hi = static_cast<std::int64_t>(start) +
                                            static_cast<std::int64_t>(span) - 1;
        auto it = std::lower_bound(reach.begin(), reach.end(), lo,
                                   [](const Range& r, std::int64_t v) { return r.hi < v; });
        std::size_t n = 0;
        for (; it != reach.end() && it->lo <= hi; ++it) {
            const std::int64_t a = std::max(lo, it->lo), b = std::min(hi, it->hi);
            out[n++] = {static_cast<std::uint8_t>(a - lo), static_cast<std::uint8_t>(b - a + 1)};
        }
        return n;
    }

    // A key on its way through the batch pipeline.
    struct Slot {
        const DiagnosisKey* key = nullptr;
        std::uint32_t index = 0;
        RollingProximityIdKey rpik;
        std::size_t span = 0;  // intervals from the rolling start that the pieces lie in
        std::size_t pieces = 0;
        Piece piece[kTekRollingPeriod / 2 + 1];
        std::size_t n = 0;  // RPIs derived, piece after piece
        RollingProximityId rpis[kTekRollingPeriod];
    };
    static constexpr std::size_t kGroup = 8;
    Slot slots[kGroup];

    // The interval of the i-th derived RPI of `slot`.
    static IntervalNumber interval_of(const Slot& slot, std::size_t i) noexcept {
        for (std::size_t p = 0; p < slot.pieces; ++p) {
            if (i < slot.piece[p].length)
                return static_cast<IntervalNumber>(slot.key->exposure_key.rolling_start +
                                                   slot.piece[p].offset + i);
            i -= slot.piece[p].length;
        }
        return 0;  // unreachable: i < slot.n
    }

    Result<void> run(std::span<const DiagnosisKey> keys, std::uint32_t first_index,
                     std::vector<MatchedSighting>& out);

    // The table for the filter's `found` candidates of `slot`, then the checks of the hits.
    void check_candidates(const Slot& slot, std::size_t found, std::vector<MatchedSighting>& out) {
        for (std::size_t c = 0; c < found; ++c) {
            auto rows = index.lookup(slot.rpis[candidates[c]]);
            if (rows.empty()) continue;
            ++counters.rpis_matched;
            classify(*slot.key, slot.index, interval_of(slot, candidates[c]), rows,
                     derive_aemk(slot.key->exposure_key.tek), out);
        }
    }

    void classify(const DiagnosisKey& key, std::uint32_t key_index, IntervalNumber j,
                  std::span<const std::uint32_t> rows, const AssociatedEncryptedMetadataKey& aemk,
                  std::vector<MatchedSighting>& out) {
        const auto& s = index.sightings;
        hit_rows.assign(rows.begin(), rows.end());
        std::sort(hit_rows.begin(), hit_rows.end(), [&](std::uint32_t a, std::uint32_t b) {
            return s[a].first_seen != s[b].first_seen ? s[a].first_seen < s[b].first_seen : a < b;
        });
        // Each row (one AEM of the RPI in one receiver interval) is judged on its own: a forged,
        // garbled or replayed copy of an RPI must not take a genuine sighting down with it. When
        // the rows of an RPI carry different AEMs, nobody can tell which is genuine: every row
        // keeps its own metadata (its packets are scored with it alone) and is marked disputed.
        bool disputed = false;
        for (std::uint32_t r : hit_rows)
            if (s[r].aem_conflict || s[r].aem != s[hit_rows.front()].aem) disputed = true;
        bool have_valid = false;
        std::int64_t first_valid = 0;  // first_seen of the earliest valid row (rows are sorted)
        for (std::uint32_t r : hit_rows) {
            const Sighting& x = s[r];
            MatchedSighting m;
            m.key_index = key_index;
            m.rpi_interval = j;
            m.sighting_index = r;
            m.metadata_disputed = disputed;
            auto md = deriver.crypt_aem(aemk, x.rpi, x.aem.bytes);
            if (md) m.metadata = md->bytes;
            const std::int64_t distance = static_cast<std::int64_t>(x.interval) - j;
            if (!md || !validate_metadata(m.metadata)) {
                m.status = MatchStatus::kSuspect;
                m.reason = "metadata not well-formed";
            } else if (j >= key.exposure_key.rolling_end()) {
                m.status = MatchStatus::kSuspect;
                m.reason = "RPI of an interval outside the key's validity";
            } else if (distance > static_cast<std::int64_t>(options.tolerance_intervals) ||
                       -distance > static_cast<std::int64_t>(options.tolerance_intervals)) {
                m.status = MatchStatus::kSuspect;
                m.reason = "heard too far from the RPI's interval";
            } else if (have_valid && x.first_seen - first_valid > options.replay_window_seconds) {
                m.status = MatchStatus::kSuspect;
                m.reason = "heard again too long after its first sighting";
            } else if (!have_valid) {
                have_valid = true;
                first_valid = x.first_seen;
            }
            out.push_back(m);
        }
    }
};

KeyMatcher::KeyMatcher(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
KeyMatcher::KeyMatcher(KeyMatcher&&) noexcept = default;
KeyMatcher& KeyMatcher::operator=(KeyMatcher&&) noexcept = default;
KeyMatcher::~KeyMatcher() = default;

Result<KeyMatcher> KeyMatcher::create(const SightingIndex& index, const MatchOptions& options) {
    if (options.tolerance_intervals > kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "match: tolerance must be 0..144 intervals");
    if (options.replay_window_seconds < 0)
        return make_error(ErrorCode::kInvalidArgument, "match: replay window must not be negative");
    auto d = RpiDeriver::create();
    if (!d) return d.error();
    auto impl = std::make_unique<Impl>(*index.impl_, options, std::move(*d));
    if (options.prefilter) impl->build_reach();
    return KeyMatcher(std::move(impl));
}

const MatchCounters& KeyMatcher::counters() const noexcept { return impl_->counters; }

Result<void> KeyMatcher::Impl::run(std::span<const DiagnosisKey> keys, std::uint32_t first_index,
                                   std::vector<MatchedSighting>& out) {
    const SightingIndex::Impl& ix = index;
    for (std::size_t begin = 0; begin < keys.size();) {
        // 1. Which keys of the next group need work, and which of their intervals.
        std::size_t used = 0;
        for (; begin < keys.size() && used < kGroup; ++begin) {
            const DiagnosisKey& key = keys[begin];
            const ExposureKey& k = key.exposure_key;
            if (key.report_type == ReportType::kRevoked) {
                ++counters.keys_revoked;
                continue;
            }
            if (k.rolling_period < 1 || k.rolling_period > kTekRollingPeriod) {
                ++counters.keys_invalid;  // key-file readers drop these already
                continue;
            }
            // Every interval the TEK could have been asked about (GAEN derives all 144 and
            // validates later); RPIs past the key's own period are checked and flagged, never
            // trusted.
            const auto span = static_cast<std::size_t>(std::min<std::uint64_t>(
                kTekRollingPeriod,
                static_cast<std::uint64_t>(std::numeric_limits<IntervalNumber>::max()) -
                    k.rolling_start + 1));
            Slot& slot = slots[used];
            if (options.prefilter) {
                slot.pieces = reachable_pieces(k.rolling_start, span, slot.piece);
            } else {
                slot.pieces = 1;
                slot.piece[0] = {0, static_cast<std::uint8_t>(span)};
            }
            if (slot.pieces == 0) {
                ++counters.keys_skipped;
                continue;
            }
            slot.key = &key;
            slot.index = first_index + static_cast<std::uint32_t>(begin);
            slot.span = span;
            ++used;
        }
        // 2. RPIKs, four at a time (a short group repeats its first key in the spare lanes).
        for (std::size_t i = 0; i < used; i += 4) {
            const std::uint8_t* ikm[4];
            std::uint8_t rpik[4][16];
            for (std::size_t k = 0; k < 4; ++k)
                ikm[k] =
                    slots[i + (i + k < used ? k : 0)].key->exposure_key.tek.expose_secret().data();
            detail::gaen_hkdf16_x4(ikm, detail::kInfoRpik, rpik);
            for (std::size_t k = 0; k < 4 && i + k < used; ++k)
                std::memcpy(slots[i + k].rpik.expose_secret_mut().data(), rpik[k], 16);
        }
        if (kernel != nullptr) {
            // 3-4. Per key: its RPIs (the kernel prefetches their filter words), then the filter
            // pass over the previous key's RPIs, whose words have arrived meanwhile, the table
            // for its few candidates and the checks.
            for (std::size_t i = 0; i <= used; ++i) {
                if (i < used) {
                    Slot& slot = slots[i];
                    const std::uint8_t* blocks =
                        run_blocks(slot.key->exposure_key.rolling_start, slot.span);
                    slot.n = 0;
                    for (std::size_t p = 0; p < slot.pieces; ++p) {
                        kernel(slot.rpik.expose_secret().data(), blocks + 16 * slot.piece[p].offset,
                               slot.piece[p].length, slot.rpis + slot.n, ix.filter.data(),
                               ix.filter_shift);
                        slot.n += slot.piece[p].length;
                    }
                    ++counters.keys_checked;
                    counters.rpis_derived += slot.n;
                }
                if (i > 0) {
                    const Slot& prev = slots[i - 1];
                    check_candidates(prev,
                                     candidate_fn(ix.filter.data(), ix.filter_shift, prev.rpis,
                                                  prev.n, candidates),
                                     out);
                }
            }
            continue;
        }
        // 3. RPIs, piece by piece, from the cached PaddedData of the key's day.
        for (std::size_t i = 0; i < used; ++i) {
            Slot& slot = slots[i];
            slot.n = 0;
            for (std::size_t p = 0; p < slot.pieces; ++p) {
                if (auto r = deriver.derive_range(
                        slot.rpik, slot.key->exposure_key.rolling_start, slot.piece[p].offset,
                        std::span(slot.rpis + slot.n, slot.piece[p].length));
                    !r)
                    return r;
                slot.n += slot.piece[p].length;
            }
            ++counters.keys_checked;
            counters.rpis_derived += slot.n;
        }
        // 4. The filter, then the table for the few candidates, then the checks.
        for (std::size_t i = 0; i < used; ++i) {
            const Slot& slot = slots[i];
            const std::size_t found =
                candidate_fn(ix.filter.data(), ix.filter_shift, slot.rpis, slot.n, candidates);
            check_candidates(slot, found, out);
        }
    }
    return ok();
}

Result<void> KeyMatcher::match(const DiagnosisKey& key, std::uint32_t key_index,
                               std::vector<MatchedSighting>& out) {
    if (key.exposure_key.rolling_period < 1 || key.exposure_key.rolling_period > kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "match: rolling period must be 1..144");
    return impl_->run(std::span(&key, 1), key_index, out);
}

Result<void> KeyMatcher::match_batch(std::span<const DiagnosisKey> keys,
                                     std::uint32_t first_key_index,
                                     std::vector<MatchedSighting>& out) {
    return impl_->run(keys, first_key_index, out);
}

}  // namespace sotto::core
