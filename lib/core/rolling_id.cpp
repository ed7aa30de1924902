#include <bit>
#include <cstring>
#include <limits>

#include <sotto/core/rolling_id.hpp>
#include <sotto/secret.hpp>

#include "aes128.hpp"
#include "hkdf.hpp"

namespace sotto::core {
namespace {

constexpr std::uint8_t kRpiPrefix[6] = {'E', 'N', '-', 'R', 'P', 'I'};

void write_padded(std::uint8_t* block, IntervalNumber enin) noexcept {
    std::memcpy(block, kRpiPrefix, 6);
    std::memset(block + 6, 0, 6);
    block[12] = static_cast<std::uint8_t>(enin);  // EN: ENIN as uint32 little-endian
    block[13] = static_cast<std::uint8_t>(enin >> 8);
    block[14] = static_cast<std::uint8_t>(enin >> 16);
    block[15] = static_cast<std::uint8_t>(enin >> 24);
}

}  // namespace

std::array<std::uint8_t, 16> padded_data(IntervalNumber enin) noexcept {
    std::array<std::uint8_t, 16> b{};
    write_padded(b.data(), enin);
    return b;
}

static_assert(sizeof(RollingProximityId) == kRpiBytes && alignof(RollingProximityId) == 1,
              "RPIs are written in place as contiguous AES blocks");

// Writes the little-endian ENIN (EN: LE32) into a PaddedData block with one 32-bit store.
void set_interval(std::uint8_t* block, IntervalNumber enin) noexcept {
    if constexpr (std::endian::native == std::endian::big) enin = __builtin_bswap32(enin);
    std::memcpy(block + 12, &enin, 4);
}

struct RpiDeriver::Impl {
    detail::Aes128Batch aes;

    // PaddedData blocks of consecutive intervals depend only on the first interval. A key file's
    // keys start on a handful of days (one per day of the last two weeks), so `derive` keeps one
    // run per day in a small direct-mapped cache and rewrites nothing for most keys.
    static constexpr std::size_t kRuns = 16;
    struct Run {
        alignas(64) std::uint8_t blocks[kTekRollingPeriod * 16];
        IntervalNumber first = 0;
        std::size_t length = 0;  // 0: empty
    };
    Run runs[kRuns];
    // Blocks for `derive_at` (arbitrary intervals) and the AEM keystream.
    alignas(64) std::uint8_t scratch[kTekRollingPeriod * 16];

    explicit Impl(detail::Aes128Batch a) noexcept : aes(std::move(a)) {
        for (std::size_t i = 0; i < kTekRollingPeriod; ++i) {
            write_padded(scratch + 16 * i, 0);
            for (Run& r : runs) write_padded(r.blocks + 16 * i, 0);
        }
    }

    const std::uint8_t* run_blocks(IntervalNumber first, std::size_t n) noexcept {
        Run& r = runs[(first / kTekRollingPeriod) % kRuns];
        if (r.length < n || r.first != first) {
            for (std::size_t i = 0; i < n; ++i)
                set_interval(r.blocks + 16 * i, static_cast<IntervalNumber>(first + i));
            r.first = first;
            r.length = n;
        }
        return r.blocks;
    }
};

RpiDeriver::RpiDeriver(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
RpiDeriver::RpiDeriver(RpiDeriver&&) noexcept = default;
RpiDeriver& RpiDeriver::operator=(RpiDeriver&&) noexcept = default;
RpiDeriver::~RpiDeriver() = default;

Result<RpiDeriver> RpiDeriver::create() noexcept {
    auto aes = detail::Aes128Batch::create();
    if (!aes) return aes.error();
    std::unique_ptr<Impl> impl(new (std::nothrow) Impl(std::move(*aes)));
    if (!impl) return make_error(ErrorCode::kOutOfMemory, "rpi deriver: out of memory");
    return RpiDeriver(std::move(impl));
}

const char* RpiDeriver::aes_implementation() const noexcept {
    return detail::aes_backend_name(impl_->aes.backend());
}

Result<void> RpiDeriver::derive(const TemporaryExposureKey& tek, IntervalNumber first,
                                std::span<RollingProximityId> out) noexcept {
    if (out.size() > kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "derive: more than 144 intervals");
    if (out.empty()) return ok();
    if (first > std::numeric_limits<IntervalNumber>::max() - (out.size() - 1))
        return make_error(ErrorCode::kInvalidArgument, "derive: interval range overflows");
    Impl& im = *impl_;
    const std::uint8_t* blocks = im.run_blocks(first, out.size());
    std::uint8_t rpik[16];
    detail::gaen_hkdf16(tek.expose_secret(), detail::kInfoRpik, rpik);
    const bool good = im.aes.encrypt(rpik, blocks, out.data()->bytes.data(), out.size());
    sotto::detail::secure_wipe(rpik, sizeof rpik);
    if (!good) return make_error(ErrorCode::kCryptoFailure, "AES-128 failed");
    return ok();
}

Result<void> RpiDeriver::derive_range(const RollingProximityIdKey& rpik, IntervalNumber run_start,
                                      std::size_t offset,
                                      std::span<RollingProximityId> out) noexcept {
    if (offset > kTekRollingPeriod || out.size() > kTekRollingPeriod - offset)
        return make_error(ErrorCode::kInvalidArgument, "derive_range: more than 144 intervals");
    if (out.empty()) return ok();
    const std::size_t span = offset + out.size();
    if (run_start > std::numeric_limits<IntervalNumber>::max() - (span - 1))
        return make_error(ErrorCode::kInvalidArgument, "derive_range: interval range overflows");
    Impl& im = *impl_;
    const std::uint8_t* blocks = im.run_blocks(run_start, span);
    if (!im.aes.encrypt(rpik.expose_secret(), blocks + 16 * offset, out.data()->bytes.data(),
                        out.size()))
        return make_error(ErrorCode::kCryptoFailure, "AES-128 failed");
    return ok();
}

Result<void> RpiDeriver::derive_at(const RollingProximityIdKey& rpik,
                                   std::span<const IntervalNumber> intervals,
                                   std::span<RollingProximityId> out) noexcept {
    if (intervals.size() != out.size())
        return make_error(ErrorCode::kInvalidArgument, "derive_at: size mismatch");
    if (out.size() > kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "derive_at: more than 144 intervals");
    if (out.empty()) return ok();
    Impl& im = *impl_;
    for (std::size_t i = 0; i < intervals.size(); ++i)
        set_interval(im.scratch + 16 * i, intervals[i]);
    if (!im.aes.encrypt(rpik.expose_secret(), im.scratch, out.data()->bytes.data(), out.size()))
        return make_error(ErrorCode::kCryptoFailure, "AES-128 failed");
    return ok();
}

Result<void> RpiDeriver::derive_at(const TemporaryExposureKey& tek,
                                   std::span<const IntervalNumber> intervals,
                                   std::span<RollingProximityId> out) noexcept {
    return derive_at(derive_rpik(tek), intervals, out);
}

Result<AssociatedEncryptedMetadata> RpiDeriver::crypt_aem(
    const AssociatedEncryptedMetadataKey& aemk, const RollingProximityId& rpi,
    std::span<const std::uint8_t, 4> data) noexcept {
    // AES-128-CTR with IV = RPI over 4 bytes uses only the first keystream block,
    // AES-128(AEMK, RPI); the counter increment convention never comes into play.
    Impl& im = *impl_;
    std::uint8_t keystream[16];
    const bool good = im.aes.encrypt(aemk.expose_secret(), rpi.bytes.data(), keystream, 1);
    if (!good) return make_error(ErrorCode::kCryptoFailure, "AES-128 failed");
    AssociatedEncryptedMetadata aem;
    for (std::size_t i = 0; i < kAemBytes; ++i)
        aem.bytes[i] = static_cast<std::uint8_t>(data[i] ^ keystream[i]);
    sotto::detail::secure_wipe(keystream, sizeof keystream);
    return aem;
}

// The one-off calls below run on a local AES context: no RpiDeriver (whose caches take ~40 KB of
// heap), so they allocate nothing with the AES-NI, ARMv8 and portable backends.
namespace {

Result<void> aes_blocks(std::span<const std::uint8_t, 16> key, const std::uint8_t* in,
                        std::uint8_t* out, std::size_t n) noexcept {
    auto aes = detail::Aes128Batch::create();
    if (!aes) return aes.error();
    if (!aes->encrypt(key, in, out, n))
        return make_error(ErrorCode::kCryptoFailure, "AES-128 failed");
    return ok();
}

Result<AssociatedEncryptedMetadata> crypt_aem_once(const AssociatedEncryptedMetadataKey& aemk,
                                                   const RollingProximityId& rpi,
                                                   std::span<const std::uint8_t, 4> data) noexcept {
    std::uint8_t keystream[16];
    if (auto r = aes_blocks(aemk.expose_secret(), rpi.bytes.data(), keystream, 1); !r)
        return r.error();
    AssociatedEncryptedMetadata aem;
    for (std::size_t i = 0; i < kAemBytes; ++i)
        aem.bytes[i] = static_cast<std::uint8_t>(data[i] ^ keystream[i]);
    sotto::detail::secure_wipe(keystream, sizeof keystream);
    return aem;
}

}  // namespace

Result<void> derive_rpis(const TemporaryExposureKey& tek, IntervalNumber first,
                         std::span<RollingProximityId> out) noexcept {
    if (out.size() > kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "derive: more than 144 intervals");
    if (out.empty()) return ok();
    if (first > std::numeric_limits<IntervalNumber>::max() - (out.size() - 1))
        return make_error(ErrorCode::kInvalidArgument, "derive: interval range overflows");
    for (std::size_t i = 0; i < out.size(); ++i)
        write_padded(out[i].bytes.data(), static_cast<IntervalNumber>(first + i));
    const RollingProximityIdKey rpik = derive_rpik(tek);
    return aes_blocks(rpik.expose_secret(), out.data()->bytes.data(), out.data()->bytes.data(),
                      out.size());
}

Result<RollingProximityId> derive_rpi(const RollingProximityIdKey& rpik,
                                      IntervalNumber enin) noexcept {
    RollingProximityId rpi;
    write_padded(rpi.bytes.data(), enin);
    if (auto r = aes_blocks(rpik.expose_secret(), rpi.bytes.data(), rpi.bytes.data(), 1); !r)
        return r.error();
    return rpi;
}

Result<AssociatedEncryptedMetadata> encrypt_aem(const AssociatedEncryptedMetadataKey& aemk,
                                                const RollingProximityId& rpi,
                                                const MetadataBytes& metadata) noexcept {
    return crypt_aem_once(aemk, rpi, metadata);
}

Result<MetadataBytes> decrypt_aem(const AssociatedEncryptedMetadataKey& aemk,
                                  const RollingProximityId& rpi,
                                  const AssociatedEncryptedMetadata& aem) noexcept {
    auto plain = crypt_aem_once(aemk, rpi, aem.bytes);
    if (!plain) return plain.error();
    return plain->bytes;
}

Result<Beacon> make_beacon(const ExposureKey& key, IntervalNumber enin,
                           const Metadata& metadata) noexcept {
    if (!key.valid_at(enin))
        return make_error(ErrorCode::kOutOfRange, "beacon: interval outside the key's validity");
    Beacon b;
    auto rpi = derive_rpi(derive_rpik(key.tek), enin);
    if (!rpi) return rpi.error();
    b.rpi = *rpi;
    auto aem = crypt_aem_once(derive_aemk(key.tek), b.rpi, encode_metadata(metadata));
    if (!aem) return aem.error();
    b.aem = *aem;
    return b;
}

}  // namespace sotto::core
