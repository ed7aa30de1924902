// C ABI: the pure protocol functions (intervals, RPIs, beacons, metadata, payload codec).
#include <cstring>
#include <span>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

#include "capi/shim.hpp"

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

/// The TEK of a (ptr, len) pair, or nothing when the length is wrong.
bool read_tek(const std::uint8_t* tek, std::size_t len, core::TemporaryExposureKey& out) {
    if (tek == nullptr || len != core::kTekBytes) return false;
    out = core::TemporaryExposureKey::from(
        std::span<const std::uint8_t, core::kTekBytes>(tek, core::kTekBytes));
    return true;
}

core::Beacon to_core(const sotto_beacon& b) {
    core::Beacon out;
    std::memcpy(out.rpi.bytes.data(), b.rpi, sizeof b.rpi);
    std::memcpy(out.aem.bytes.data(), b.aem, sizeof b.aem);
    return out;
}

void to_c(const core::Beacon& b, sotto_beacon& out) {
    std::memcpy(out.rpi, b.rpi.bytes.data(), sizeof out.rpi);
    std::memcpy(out.aem, b.aem.bytes.data(), sizeof out.aem);
}

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_interval_number(uint32_t* out, int64_t unix_seconds) {
    return guard([&]() -> sotto_status {
        if (out == nullptr) return capi::null_argument();
        auto enin = core::interval_number(unix_seconds);
        if (!enin) return fail(enin.error());
        *out = *enin;
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_derive_rpis(uint8_t* out_rpis, size_t out_capacity, const uint8_t* tek,
                                         size_t tek_len, uint32_t first_interval, uint32_t count) {
    return guard([&]() -> sotto_status {
        if (out_rpis == nullptr) return capi::null_argument();
        core::TemporaryExposureKey key;
        if (!read_tek(tek, tek_len, key)) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "tek: expected 16 bytes");
        }
        if (count == 0 || count > core::kTekRollingPeriod) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "count: expected 1..144 intervals");
        }
        if (out_capacity / core::kRpiBytes < count) {
            return fail(SOTTO_ERR_OUT_OF_RANGE, "out_rpis: buffer shorter than 16 * count bytes");
        }
        std::array<core::RollingProximityId, core::kTekRollingPeriod> rpis{};
        auto deriver = core::RpiDeriver::create();
        if (!deriver) return fail(deriver.error());
        auto r = deriver->derive(key, first_interval, std::span(rpis.data(), count));
        if (!r) return fail(r.error());
        for (std::uint32_t i = 0; i < count; ++i) {
            std::memcpy(out_rpis + std::size_t{i} * core::kRpiBytes, rpis[i].bytes.data(),
                        core::kRpiBytes);
        }
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_beacon_make(sotto_beacon* out, const uint8_t* tek, size_t tek_len,
                                         uint32_t interval, const sotto_metadata* metadata) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || metadata == nullptr) return capi::null_argument();
        core::ExposureKey key;
        if (!read_tek(tek, tek_len, key.tek)) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "tek: expected 16 bytes");
        }
        key.rolling_start = core::day_start_interval(interval);
        key.rolling_period = core::kTekRollingPeriod;
        core::Metadata m;
        m.minor_version = metadata->minor_version;
        m.tx_power_dbm = metadata->tx_power_dbm;
        m.calibration_confidence =
            static_cast<core::CalibrationConfidence>(metadata->calibration_confidence & 3u);
        auto beacon = core::make_beacon(key, interval, m);
        if (!beacon) return fail(beacon.error());
        to_c(*beacon, *out);
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_beacon_open_metadata(sotto_metadata* out, const sotto_beacon* beacon,
                                                  const uint8_t* tek, size_t tek_len) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || beacon == nullptr) return capi::null_argument();
        core::TemporaryExposureKey key;
        if (!read_tek(tek, tek_len, key)) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "tek: expected 16 bytes");
        }
        const core::Beacon b = to_core(*beacon);
        auto bytes = core::decrypt_aem(core::derive_aemk(key), b.rpi, b.aem);
        if (!bytes) return fail(bytes.error());
        auto m = core::decode_metadata(*bytes);
        if (!m) return fail(m.error());
        out->minor_version = m->minor_version;
        out->tx_power_dbm = m->tx_power_dbm;
        out->calibration_confidence = static_cast<std::uint8_t>(m->calibration_confidence);
        out->reserved = 0;
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_advertising_data_encode(uint8_t* out, size_t out_capacity,
                                                     size_t* out_len, const sotto_beacon* beacon,
                                                     uint32_t form) {
    return guard([&]() -> sotto_status {
        if (out_len == nullptr || beacon == nullptr) return capi::null_argument();
        if (form != SOTTO_ADV_WITH_FLAGS && form != SOTTO_ADV_WITHOUT_FLAGS) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT,
                        "form: expected SOTTO_ADV_WITH_FLAGS or _WITHOUT_FLAGS");
        }
        const auto adv = core::encode_advertising_data(
            to_core(*beacon), form == SOTTO_ADV_WITH_FLAGS ? core::AdvertisingForm::kWithFlags
                                                           : core::AdvertisingForm::kWithoutFlags);
        *out_len = adv.size;
        if (out == nullptr || out_capacity < adv.size) {
            return fail(SOTTO_ERR_OUT_OF_RANGE, "out: buffer shorter than the advertising data");
        }
        std::memcpy(out, adv.bytes.data(), adv.size);
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_payload_decode(sotto_beacon* out, const uint8_t* bytes, size_t len) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || !capi::bytes_ok(bytes, len)) return capi::null_argument();
        auto b = core::decode_beacon(std::span(bytes, len));
        if (!b) return fail(b.error());
        to_c(*b, *out);
        return SOTTO_OK;
    });
}

}  // extern "C"
