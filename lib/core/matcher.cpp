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

// A prefetch the optimiser keeps (GCC deletes a loop of __builtin_prefetch alone).
inline void prefetch(const void* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __asm__ volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
    __asm__ volatile("" : : "r"(p) : "memory");
#endif
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
    // Open-addressing table: slot = (fingerprint << 32) | (1 + index into `rpis`), 0 = empty. The
    // fingerprint (RPI bytes 8-11) turns away most of the filter's false positives at the slot,
    // without a second cache miss on `rpis`.
    std::vector<std::uint64_t> table;
    std::size_t table_mask = 0;
    // Blocked Bloom filter in front of the table: five bits of one 64-bit word per RPI
    // (matcher_filter.hpp). Small enough to stay in L2 for the usual stores, so the 144 probes per
    // key rarely leave the core.
    std::vector<std::uint64_t> filter;
    unsigned filter_shift = 58;  // word index = first 8 RPI bytes (LE) >> filter_shift
    SlotHasher hasher;
    // Distinct receiver intervals that hold sightings, sorted.
    std::vector<IntervalNumber> intervals;

    bool maybe_contains(const RollingProximityId& rpi) const noexcept {
        return detail::filter_passes(filter.data(), filter_shift, detail::load64(rpi.bytes.data()));
    }

    static std::uint64_t fingerprint(const RollingProximityId& rpi) noexcept {
        std::uint32_t f;
        std::memcpy(&f, rpi.bytes.data() + 8, 4);
        return static_cast<std::uint64_t>(f) << 32;
    }

    std::size_t first_slot(const RollingProximityId& rpi) const noexcept {
        return static_cast<std::size_t>(hasher(rpi.bytes.data())) & table_mask;
    }

    std::span<const std::uint32_t> lookup(const RollingProximityId& rpi) const noexcept {
        const std::uint64_t f = fingerprint(rpi);
        for (std::size_t slot = first_slot(rpi);; slot = (slot + 1) & table_mask) {
            const std::uint64_t v = table[slot];
            if (v == 0) return {};
            const auto i = static_cast<std::uint32_t>(v);
            if ((v & ~std::uint64_t{0xffffffff}) == f && rpis[i - 1] == rpi)
                return {rows.data() + row_begin[i - 1], row_begin[i] - row_begin[i - 1]};
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
    const std::size_t words = detail::filter_words(n);  // sized to stay in L2 (matcher_filter.hpp)
    im->filter.assign(words, 0);
    im->filter_shift = static_cast<unsigned>(64 - std::countr_zero(words));
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* rpi = im->rpis[i].bytes.data();
        const std::uint64_t w = detail::load64(rpi);
        im->filter[static_cast<std::size_t>(w >> im->filter_shift)] |= detail::filter_bits(w);
        std::size_t slot = im->first_slot(im->rpis[i]);
        while (im->table[slot] != 0) slot = (slot + 1) & im->table_mask;
        im->table[slot] = Impl::fingerprint(im->rpis[i]) | (i + 1);
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
        std::size_t n = 0;      // RPIs, piece after piece
        std::size_t first = 0;  // where they start in the quad's `rpis`
    };
    // Four keys (one four-lane HKDF): their RPIs one after the other, and the candidates among
    // them (indices into `rpis`, ascending).
    static constexpr std::size_t kQuad = 4;
    struct Quad {
        Slot slot[kQuad];
        std::size_t used = 0;
        std::size_t n = 0;  // RPIs of all its keys
        alignas(64) RollingProximityId rpis[kQuad * kTekRollingPeriod];
        std::uint16_t candidates[kQuad * kTekRollingPeriod];
        std::size_t found = 0;
    };
    Quad quads[2];

    // The interval of the i-th RPI of `slot`.
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
    std::size_t fill(Quad& q, std::span<const DiagnosisKey> keys, std::size_t& begin,
                     std::uint32_t first_index) noexcept;

    // Prefetches the table slots of the quad's candidates (its checks come a little later).
    void prefetch_slots(const Quad& q) const noexcept {
        for (std::size_t c = 0; c < q.found; ++c)
            prefetch(&index.table[index.first_slot(q.rpis[q.candidates[c]])]);
    }

    // The table for the quad's candidates, then the checks of the hits.
    void check_candidates(const Quad& q, std::vector<MatchedSighting>& out) {
        std::size_t k = 0;
        for (std::size_t c = 0; c < q.found; ++c) {
            const std::size_t i = q.candidates[c];
            auto rows = index.lookup(q.rpis[i]);
            if (rows.empty()) continue;
            while (i >= q.slot[k].first + q.slot[k].n) ++k;
            const Slot& slot = q.slot[k];
            ++counters.rpis_matched;
            classify(*slot.key, slot.index, interval_of(slot, i - slot.first), rows,
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

// The next keys from `begin` that need work, at most four, into `q` (slots, RPI positions).
std::size_t KeyMatcher::Impl::fill(Quad& q, std::span<const DiagnosisKey> keys, std::size_t& begin,
                                   std::uint32_t first_index) noexcept {
    q.used = 0;
    q.n = 0;
    q.found = 0;
    for (; begin < keys.size() && q.used < kQuad; ++begin) {
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
        // Every interval the TEK could have been asked about (GAEN derives all 144 and validates
        // later); RPIs past the key's own period are checked and flagged, never trusted.
        const auto span = static_cast<std::size_t>(std::min<std::uint64_t>(
            kTekRollingPeriod,
            static_cast<std::uint64_t>(std::numeric_limits<IntervalNumber>::max()) -
                k.rolling_start + 1));
        Slot& slot = q.slot[q.used];
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
        slot.first = q.n;
        slot.n = 0;
        for (std::size_t p = 0; p < slot.pieces; ++p) slot.n += slot.piece[p].length;
        q.n += slot.n;
        ++q.used;
        ++counters.keys_checked;
        counters.rpis_derived += slot.n;
    }
    return q.used;
}

Result<void> KeyMatcher::Impl::run(std::span<const DiagnosisKey> keys, std::uint32_t first_index,
                                   std::vector<MatchedSighting>& out) {
    const SightingIndex::Impl& ix = index;
    // Quads of keys. With an RPI kernel, quad q's step is: the RPIKs of q (four-lane HKDF); the
    // RPIs of q, probed against the filter in the kernel; a prefetch of the table slots of q's
    // candidates; the table and the checks of q - 1's candidates, whose slots have arrived.
    // Without a kernel, each quad is derived, filtered and checked in turn.
    Quad* prev = nullptr;
    std::size_t cur = 0;
    for (std::size_t begin = 0;;) {
        Quad& q = quads[cur];
        if (fill(q, keys, begin, first_index) == 0) break;
        const std::uint8_t* ikm[kQuad];
        std::uint8_t rpik[kQuad][16];
        for (std::size_t k = 0; k < kQuad; ++k)  // spare lanes repeat the first key
            ikm[k] = q.slot[k < q.used ? k : 0].key->exposure_key.tek.expose_secret().data();
        if (kernel == nullptr) {
            detail::gaen_hkdf16_x4(ikm, detail::kInfoRpik, rpik);
            for (std::size_t k = 0; k < q.used; ++k) {
                Slot& slot = q.slot[k];
                std::memcpy(slot.rpik.expose_secret_mut().data(), rpik[k], 16);
                std::size_t at = slot.first;
                for (std::size_t p = 0; p < slot.pieces; ++p) {
                    if (auto r = deriver.derive_range(
                            slot.rpik, slot.key->exposure_key.rolling_start, slot.piece[p].offset,
                            std::span(q.rpis + at, slot.piece[p].length));
                        !r)
                        return r;
                    at += slot.piece[p].length;
                }
            }
            q.found = detail::filter_candidates_scalar(ix.filter.data(), ix.filter_shift, q.rpis,
                                                       q.n, q.candidates);
            check_candidates(q, out);
            continue;
        }
        detail::gaen_hkdf16_x4(ikm, detail::kInfoRpik, rpik);
        detail::RpiRoundKeys round_keys[kQuad];
        detail::expand_rpi_keys_x4(rpik, round_keys);
        for (std::size_t k = 0; k < q.used; ++k) {
            const Slot& slot = q.slot[k];
            const std::uint8_t* blocks =
                run_blocks(slot.key->exposure_key.rolling_start, slot.span);
            std::size_t at = slot.first;
            for (std::size_t p = 0; p < slot.pieces; ++p) {
                q.found += kernel(round_keys[k], blocks + 16 * slot.piece[p].offset,
                                  slot.piece[p].length, q.rpis + at, ix.filter.data(),
                                  ix.filter_shift, q.candidates + q.found, at);
                at += slot.piece[p].length;
            }
        }
        prefetch_slots(q);
        if (prev != nullptr) check_candidates(*prev, out);
        prev = &q;
        cur ^= 1;
    }
    if (prev != nullptr) check_candidates(*prev, out);  // the last quad
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
