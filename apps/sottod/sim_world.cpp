#include "sim_world.hpp"

#include <optional>

namespace sotto::sottod {

namespace {
namespace sim = platform::simulated;
constexpr std::int64_t kMaxStepMs = 60'000;  // one pump delivers at most a minute at a time

std::uint64_t peer_seed(std::uint64_t seed, int index) noexcept {
    return seed * 1'000'003u + static_cast<std::uint64_t>(index) + 1;
}
}  // namespace

core::ExposureKey peer_tek(std::uint64_t seed, int index, core::IntervalNumber enin) noexcept {
    core::DeterministicRng rng(peer_seed(seed, index) ^ 0x7e4b5eedu);
    return core::generate_tek(rng, enin);
}

SimWorld::SimWorld(std::int64_t start_ms, int speed) noexcept
    : clock_(start_ms),
      start_ms_(start_ms),
      real_start_ms_(SystemClock{}.now_ms()),
      speed_(speed) {}

SimWorld::~SimWorld() = default;

Result<std::unique_ptr<SimWorld>> SimWorld::create(std::uint64_t seed, int peers,
                                                   std::int64_t start_ms, int speed) noexcept {
    try {
        if (peers < 0 || peers > 50 || speed < 1 || speed > 3600)
            return Error{ErrorCode::kInvalidArgument, "simulated air: peers 0-50, speed 1-3600"};
        if (start_ms <= 0) start_ms = SystemClock{}.now_ms();
        std::unique_ptr<SimWorld> w(new SimWorld(start_ms, speed));
        sim::AirConfig air_config;
        air_config.seed = seed;
        air_config.noise_sigma_db = 3;
        air_config.packet_loss = 0.1;
        air_config.path_loss_exponent = 2.2;
        auto air = sim::Air::create(w->clock_, air_config);
        if (!air) return air.error();
        w->air_ = std::move(*air);
        auto own = w->air_->add_radio({0, 0});
        if (!own) return own.error();
        w->own_radio_ = std::move(*own);
        for (int i = 0; i < peers; ++i) {
            Peer p;
            p.rng = std::make_unique<core::DeterministicRng>(peer_seed(seed, i));
            p.tek_rng = std::make_unique<core::DeterministicRng>(peer_seed(seed, i) ^ 0x7e4b5eedu);
            const double r = 1.5 * (i + 1);
            auto radio = w->air_->add_radio({i % 2 == 0 ? r : -r, 0.5 * i});
            if (!radio) return radio.error();
            p.radio = std::move(*radio);
            auto* tek_rng = p.tek_rng.get();
            auto rotation = ble::RotationScheduler::create(
                ble::RotationConfig{}, *p.rng,
                [tek_rng](core::IntervalNumber enin) -> Result<core::ExposureKey> {
                    return core::generate_tek(*tek_rng, enin);
                });
            if (!rotation) return rotation.error();
            p.rotation.emplace(std::move(*rotation));
            w->peers_.push_back(std::move(p));
        }
        return w;
    } catch (const std::bad_alloc&) {
        return Error{ErrorCode::kOutOfMemory, "simulated air: out of memory"};
    }
}

Result<void> SimWorld::pump() noexcept {
    const std::int64_t real_elapsed = SystemClock{}.now_ms() - real_start_ms_;
    const std::int64_t target = start_ms_ + (real_elapsed > 0 ? real_elapsed : 0) * speed_;
    Result<void> first_error{};
    while (clock_.now_ms() < target) {
        std::int64_t until = std::min(target, clock_.now_ms() + kMaxStepMs);
        for (auto& p : peers_) {
            if (p.next_change_ms <= clock_.now_ms()) {
                auto b = p.rotation->at(clock_.now_ms());
                if (!b) {
                    if (first_error) first_error = b.error();
                    p.next_change_ms = clock_.now_ms() + 1000;
                    continue;
                }
                Result<void> r{};
                if (!b->active) {
                    if (p.advertising) r = p.radio->stop_advertising();
                    p.advertising = false;
                } else if (!p.advertising) {
                    r = p.radio->start_advertising(b->advertisement);
                    p.advertising = static_cast<bool>(r);
                } else if (b->changed) {
                    r = p.radio->rotate(b->advertisement);
                }
                if (!r && first_error) first_error = r.error();
                p.next_change_ms = b->next_change_ms;
            }
            until = std::min(until, std::max(p.next_change_ms, clock_.now_ms() + 1));
        }
        if (auto r = air_->advance_to(until); !r) return r.error();
    }
    return first_error;
}

}  // namespace sotto::sottod
