#pragma once
// Helpers for the Tracer tests: stores in temp dirs, a fake radio, a signed export of released
// keys.
#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/ble/radio.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/log.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

#include "support.hpp"

namespace sotto::test {

inline store::Credential tracer_credential(std::uint8_t first = 7) {
    store::StoreKey key;
    key.expose_secret_mut()[0] = first;
    return store::Credential::raw_key(std::move(key));
}

/// 2021-03-01T00:00:00Z, a UTC midnight (ENIN 2690784).
inline constexpr std::int64_t kDay0 = 1614556800;

/// A Tracer on `dir/t.db` with the tests' credential and `clock`.
inline Tracer open_at(const TempDir& dir, const Clock& clock, TracerOptions o = {}) {
    auto t = Tracer::open(dir / "t.db", tracer_credential(), clock, std::move(o));
    REQUIRE(t);
    return std::move(*t);
}

/// A beacon no real device sent: RPI bytes from `seed`, AEM zero.
inline core::ServiceData fake_sd(std::uint32_t seed) {
    core::ServiceData sd{};
    for (std::size_t i = 0; i < 4; ++i) sd[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    sd[15] = 0xA5;
    return sd;
}

/// A radio that records what it was asked to do and lets the test "hear" advertisements on the
/// scan callback, as a backend thread would.
class FakeRadio final : public ble::Radio {
public:
    struct State {
        std::mutex mu;
        std::vector<ble::Advertisement> sent;  // start_advertising and rotate, in order
        bool advertising = false;
        bool scanning = false;
        ble::ScanCallback on_heard;
        int fail_start = 0;  // error code to return from start_advertising (0: none)
    };
    explicit FakeRadio(std::shared_ptr<State> s) : s_(std::move(s)) {}

    Result<void> start_advertising(const ble::Advertisement& adv) override {
        std::lock_guard l(s_->mu);
        if (s_->fail_start != 0)
            return make_error(static_cast<ErrorCode>(s_->fail_start), "fake: refused");
        s_->sent.push_back(adv);
        s_->advertising = true;
        return {};
    }
    Result<void> rotate(const ble::Advertisement& adv) override {
        std::lock_guard l(s_->mu);
        if (!s_->advertising)
            return make_error(ErrorCode::kFailedPrecondition, "fake: not advertising");
        s_->sent.push_back(adv);
        return {};
    }
    Result<void> stop_advertising() override {
        std::lock_guard l(s_->mu);
        s_->advertising = false;
        return {};
    }
    Result<void> start_scanning(ble::ScanCallback cb) override {
        std::lock_guard l(s_->mu);
        s_->on_heard = std::move(cb);
        s_->scanning = true;
        return {};
    }
    Result<void> stop_scanning() override {
        std::lock_guard l(s_->mu);
        s_->on_heard = nullptr;
        s_->scanning = false;
        return {};
    }
    void set_event_callback(ble::EventCallback) override {}
    ble::RadioStatus status() const override {
        std::lock_guard l(s_->mu);
        return {true, s_->advertising, s_->scanning, 0, 0};
    }

    /// Delivers one heard advertisement as the backend would (false when not scanning).
    static bool hear(State& s, std::span<const std::uint8_t> sd, std::uint16_t uuid, int rssi,
                     std::int64_t time_ms) {
        std::lock_guard l(s.mu);
        if (!s.on_heard) return false;
        ble::HeardAdvertisement h;
        h.service_data = sd;
        h.service_uuid = uuid;
        h.rssi_dbm = static_cast<std::int16_t>(rssi);
        h.time_ms = time_ms;
        s.on_heard(h);
        return true;
    }

private:
    std::shared_ptr<State> s_;
};

/// What one phone broadcast, as heard: (service data, receive time in ms).
using Air = std::vector<std::pair<core::ServiceData, std::int64_t>>;

/// Distinct RPIs in `air` (= RPI matches once the key is published).
inline std::size_t distinct_rpis(const Air& air) {
    std::set<core::ServiceData> s;
    for (const auto& [sd, t] : air) s.insert(sd);
    return s.size();
}

/// Distinct (RPI, receiver interval) pairs in `air` (= sightings stored).
inline std::size_t distinct_rows(const Air& air) {
    std::set<std::pair<core::ServiceData, std::int64_t>> s;
    for (const auto& [sd, t] : air) s.emplace(sd, t / 1000 / 600);
    return s.size();
}

/// A signed export.zip (in memory) holding `keys` released by a Tracer, as a health authority
/// would publish them. Sets `trust` to trust the signer.
inline std::vector<std::uint8_t> publish(const std::vector<ReleasedKey>& keys,
                                         keyfile::TrustStore& trust, std::int64_t now,
                                         std::uint32_t padding = 20) {
    auto signer = keyfile::ExportSigner::generate();
    REQUIRE(signer);
    auto pem = signer->public_key_pem();
    REQUIRE(pem);
    REQUIRE(trust.add_pem("test", "v1", *pem));
    std::vector<core::DiagnosisKey> dks;
    for (const auto& k : keys)
        dks.push_back({k.key.clone(), 6, core::ReportType::kConfirmedTest, 2});  // DSOS 2: HIGH
    keyfile::ExportWriteOptions wo;
    wo.key_id = "test";
    wo.key_version = "v1";
    wo.start_timestamp = static_cast<std::uint64_t>(now - 86400);
    wo.end_timestamp = static_cast<std::uint64_t>(now);
    wo.padding_keys = padding;
    core::DeterministicRng rng(99);
    auto files = keyfile::build_export(dks, *signer, wo, rng);
    REQUIRE(files);
    auto zip = keyfile::zip_export(*files);
    REQUIRE(zip);
    return *zip;
}

/// The days (counted from kDay0) holding sightings in `dir/t.db`, read through a second,
/// read-only connection as `sotto store stats` would.
inline std::set<std::int64_t> stored_days(const TempDir& dir) {
    store::OpenOptions ro;
    ro.read_only = true;
    auto s = store::EncounterStore::open(dir / "t.db", tracer_credential(), ro);
    REQUIRE(s);
    auto iv = s->sighting_intervals();
    REQUIRE(iv);
    std::set<std::int64_t> out;
    for (auto i : *iv) out.insert(static_cast<std::int64_t>(i / 144) - kDay0 / 86400);
    return out;
}

/// The clock anchor of `dir/t.db` (read-only).
inline std::optional<std::int64_t> stored_anchor(const TempDir& dir) {
    store::OpenOptions ro;
    ro.read_only = true;
    auto s = store::EncounterStore::open(dir / "t.db", tracer_credential(), ro);
    REQUIRE(s);
    auto a = s->clock_anchor();
    REQUIRE(a);
    return *a;
}

/// Log lines captured by `capture` (install with `set_log_sink(&capture, &captured, level)`).
struct Captured {
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    std::size_t count(LogLevel level, const std::string& part) {
        std::lock_guard l(mu);
        std::size_t n = 0;
        for (const auto& [lv, line] : lines)
            if (lv == level && line.find(part) != std::string::npos) ++n;
        return n;
    }
};

inline void capture(void* user, LogLevel level, const char* msg, std::size_t size) noexcept {
    auto* c = static_cast<Captured*>(user);
    std::lock_guard l(c->mu);
    c->lines.emplace_back(level, std::string(msg, size));
}

/// {first, ..., last}.
inline std::set<std::int64_t> range(std::int64_t first, std::int64_t last) {
    std::set<std::int64_t> s;
    for (auto i = first; i <= last; ++i) s.insert(i);
    return s;
}

/// The seeds (`fake_sd`) of every RPI stored on the day of `clock` in `dir / "t.db"` (opened with
/// `tracer_credential()`), sorted.
inline std::vector<std::uint32_t> stored_seeds(const TempDir& dir, const Clock& clock) {
    auto s = store::EncounterStore::open(dir / "t.db", tracer_credential());
    REQUIRE(s);
    auto day = s->sightings_on_day(static_cast<std::uint32_t>(clock.now_seconds() / 86400));
    REQUIRE(day);
    std::vector<std::uint32_t> seeds;
    for (const auto& x : *day) {
        std::uint32_t seed = 0;
        for (std::size_t i = 0; i < 4; ++i)
            seed |= static_cast<std::uint32_t>(x.rpi.bytes[i]) << (8 * i);
        seeds.push_back(seed);
    }
    std::sort(seeds.begin(), seeds.end());
    return seeds;
}

}  // namespace sotto::test
