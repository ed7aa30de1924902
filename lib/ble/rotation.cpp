// RotationScheduler: the rules are listed in include/sotto/ble/rotation.hpp and docs/ble.md.
#include <algorithm>
#include <new>

#include <sotto/ble/rotation.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

#include "ble/uniform.hpp"

namespace sotto::ble {
namespace {

constexpr std::int64_t kIntervalMs = core::kIntervalSeconds * 1000;
constexpr std::int64_t kDayMs = core::kSecondsPerDay * 1000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

TekSource generating_tek_source(core::Rng& rng) {
    return [&rng](core::IntervalNumber enin) -> Result<core::ExposureKey> {
        return core::generate_tek(rng, enin);
    };
}

Result<RotationScheduler> RotationScheduler::create(const RotationConfig& config, core::Rng& rng,
                                                    TekSource tek_source,
                                                    core::IntervalNumber last_used_enin) noexcept {
    // At least one interval per broadcast, so consecutive broadcasts always get fresh ENINs.
    if (config.min_rotation_ms < kIntervalMs || config.min_rotation_ms > config.max_rotation_ms ||
        config.max_rotation_ms > 60 * kMinuteMs)
        return make_error(ErrorCode::kInvalidArgument, "rotation: bounds out of range");
    if (config.metadata.minor_version > 1)
        return make_error(ErrorCode::kInvalidArgument,
                          "rotation: metadata version is not 1.0 or 1.1");
    if (auto v = core::validate_metadata(core::encode_metadata(config.metadata)); !v)
        return make_error(ErrorCode::kInvalidArgument, "rotation: metadata is not valid");
    try {
        if (!tek_source) tek_source = generating_tek_source(rng);
        return RotationScheduler(config, rng, std::move(tek_source), last_used_enin);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "rotation: out of memory");
    }
}

RotationScheduler::RotationScheduler(const RotationConfig& config, core::Rng& rng, TekSource source,
                                     core::IntervalNumber last_used) noexcept
    : config_(config), rng_(&rng), tek_source_(std::move(source)), last_used_enin_(last_used) {}

Result<Broadcast> RotationScheduler::at(std::int64_t now_ms) noexcept {
    auto enin = core::interval_number(floor_div(now_ms, 1000));
    if (!enin) return enin.error();

    // The clock moved back: how long the current broadcast has been on the air is unknown, so it
    // ends now (it could otherwise outlive max_rotation_ms).
    const bool jumped_back = called_ && now_ms < last_call_ms_;
    called_ = true;
    last_call_ms_ = now_ms;
    const bool was_active = current_.active;

    if (current_.active && !jumped_back && now_ms < current_.next_change_ms) {
        Broadcast same = current_;
        same.changed = false;
        return same;
    }
    if (*enin <= last_used_enin_) {
        // Every interval up to last_used_enin_ has had its RPI: wait for a fresh one.
        const bool announce = was_active || !idle_;
        idle_ = true;
        current_ = Broadcast{};
        current_.generation = generation_;
        current_.next_change_ms = (static_cast<std::int64_t>(last_used_enin_) + 1) * kIntervalMs;
        Broadcast idle = current_;
        idle.changed = announce;
        return idle;
    }
    return start_new(now_ms, *enin);
}

Result<Broadcast> RotationScheduler::start_new(std::int64_t now_ms,
                                               core::IntervalNumber enin) noexcept {
    current_ = Broadcast{};  // nothing may be broadcast unless all of this succeeds
    current_.generation = generation_;
    current_.next_change_ms = now_ms;
    const core::IntervalNumber day_start = core::day_start_interval(enin);
    if (!has_key_ || !key_.valid_at(enin) || key_.rolling_start < day_start) {
        Result<core::ExposureKey> k = make_error(ErrorCode::kInternal, "rotation: no key");
        try {
            k = tek_source_(enin);
        } catch (const std::bad_alloc&) {
            return make_error(ErrorCode::kOutOfMemory, "rotation: out of memory in the TEK source");
        } catch (...) {
            return make_error(ErrorCode::kInternal, "rotation: the TEK source threw");
        }
        if (!k) return k.error();
        if (!k->valid_at(enin) || k->rolling_start < day_start)
            return make_error(ErrorCode::kFailedPrecondition,
                              "rotation: the TEK source gave a key not valid today");
        key_ = std::move(*k);
        has_key_ = true;
    }
    auto beacon = core::make_beacon(key_, enin, config_.metadata);
    if (!beacon) return beacon.error();

    // The broadcast ends at the latest when the day (or the key) ends.
    const std::int64_t day_end_ms = (floor_div(now_ms, kDayMs) + 1) * kDayMs;
    const std::int64_t key_end_ms =
        static_cast<std::int64_t>(key_.rolling_end()) * core::kIntervalSeconds * 1000;
    const std::int64_t boundary = std::min(day_end_ms, key_end_ms);
    const std::int64_t remaining = boundary - now_ms;
    std::int64_t duration = 0;
    if (remaining <= config_.max_rotation_ms) {
        duration = remaining;
    } else {
        // Leave room for one more full-length broadcast before the boundary when possible.
        std::int64_t hi = std::min(config_.max_rotation_ms, remaining - config_.min_rotation_ms);
        if (hi < config_.min_rotation_ms) hi = config_.max_rotation_ms;
        duration = detail::uniform_between(*rng_, config_.min_rotation_ms, hi);
    }

    Broadcast b;
    b.active = true;
    b.advertisement.service_data = core::encode_service_data(*beacon);
    b.advertisement.address = draw_address();
    b.advertisement.tx_power_dbm = config_.metadata.tx_power_dbm;
    b.enin = enin;
    b.started_ms = now_ms;
    b.next_change_ms = now_ms + duration;
    b.changed = true;
    b.generation = ++generation_;
    last_used_enin_ = enin;
    idle_ = false;
    current_ = b;
    return b;
}

Address RotationScheduler::draw_address() noexcept {
    // Random non-resolvable private address: top two bits 00, the other 46 bits random and
    // neither all zero nor all one (Core spec Vol 6 Part B 1.3.2.2), and not the previous one.
    for (;;) {
        Address a;
        rng_->fill(a.bytes);
        a.bytes[0] &= 0x3F;
        bool all_zero = a.bytes[0] == 0, all_one = a.bytes[0] == 0x3F;
        for (std::size_t i = 1; i < a.bytes.size(); ++i) {
            all_zero = all_zero && a.bytes[i] == 0;
            all_one = all_one && a.bytes[i] == 0xFF;
        }
        if (all_zero || all_one || a == last_address_) continue;
        last_address_ = a;
        return a;
    }
}

}  // namespace sotto::ble
