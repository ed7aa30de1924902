#pragma once
// The structs behind the C ABI's opaque handles (C++ types, never seen by C).

#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>

struct sotto_trust_store {
    sotto::keyfile::TrustStore store;
};

struct sotto_keyfile {
    sotto::keyfile::ExportInfo info;
    std::vector<sotto::core::DiagnosisKey> keys;
};

#include <optional>

#include <sotto/sotto.h>
#include <sotto/clock.hpp>
#include <sotto/tracer.hpp>

namespace sotto::capi {

/// The host's C clock callback as a `sotto::Clock` (the system clock when none is given). Only
/// the system clock brings a second time source (`elapsed_ms`): a host's callback has none.
class CallbackClock final : public Clock {
public:
    CallbackClock(sotto_clock_fn fn, void* user_data) noexcept : fn_(fn), user_data_(user_data) {}
    std::int64_t now_ms() const noexcept override {
        return fn_ != nullptr ? fn_(user_data_) : system_.now_ms();
    }
    std::optional<std::int64_t> elapsed_ms() const noexcept override {
        if (fn_ != nullptr) return std::nullopt;
        return system_.elapsed_ms();
    }

private:
    sotto_clock_fn fn_;
    void* user_data_;
    SystemClock system_;
};

}  // namespace sotto::capi

struct sotto_tracer {
    sotto_tracer(sotto_clock_fn fn, void* user_data) : clock(fn, user_data) {}
    sotto::capi::CallbackClock clock;     // declared first: outlives the Tracer
    std::optional<sotto::Tracer> tracer;  // engaged once opened
};

struct sotto_check {
    sotto::CheckReport report;
};

struct sotto_key_list {
    std::vector<sotto::core::DiagnosisKey> keys;  // TEKs wipe themselves
};
