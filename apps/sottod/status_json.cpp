#include "status_json.hpp"

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>

#include <sotto/tracer/results.hpp>
#include <sotto/version.hpp>

namespace sotto::sottod {

namespace {
std::string utc_day(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr) return "?";
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}
}  // namespace

std::string status_json(const StatusInputs& in) {
    using nlohmann::json;
    const auto& t = in.tracer;
    json j;
    j["daemon"] = "sottod";
    j["version"] = version_string();
    j["radio"] = in.radio;
    j["now"] = in.now_unix;
    j["uptime_s"] = in.now_unix - in.started_unix;
    j["bluetooth"] = {{"adapter_present", in.radio_status.adapter_present},
                      {"advertising", in.radio_status.advertising},
                      {"scanning", in.radio_status.scanning},
                      {"scan_windows", in.scan_windows},
                      {"rotations", t.rotations},
                      {"radio_errors", t.radio_errors}};
    if (in.bluez) {
        const auto& b = *in.bluez;
        j["bluetooth"]["dropped"] = {{"malformed_signals", b.malformed_signals},
                                     {"service_data_entries", b.dropped_entries}};
        j["bluetooth"]["registrations"] = b.registrations;
        j["bluetooth"]["service_restarts"] = b.service_restarts;
        j["bluetooth"]["adapter_discoverable"] = b.adapter_discoverable;
    }
    j["heard"] = {{"accepted", t.heard},
                  {"malformed", t.malformed},
                  {"dropped", t.dropped_overflow},
                  {"pending", t.pending},
                  {"stored", t.stored},
                  {"rejected", t.rejected},
                  {"flushes", t.flushes},
                  {"flush_failures", t.flush_failures}};
    j["own_keys_created"] = t.own_keys_created;
    j["retention"] = {{"clock_suspect", t.clock_suspect}};
    const auto& k = in.keys;
    j["keys"] = {{"configured", in.keys_configured},
                 {"enabled", in.keys_configured && in.keys_off_reason.empty()},
                 {"rounds", k.rounds},
                 {"rounds_failed", k.rounds_failed},
                 {"last_round", k.last_round_unix},
                 {"last_round_ok", k.last_round_ok},
                 {"files_downloaded", k.files_downloaded},
                 {"files_failed", k.files_failed},
                 {"files_refused", k.files_refused},
                 {"files_used", k.files_used},
                 {"checks", k.checks}};
    if (!in.keys_off_reason.empty()) j["keys"]["off_reason"] = in.keys_off_reason;
    // The words of sotto::RiskLevel (docs/risk.md); "unknown" before the first check.
    const char* risk = k.checks == 0
                           ? "unknown"
                           : to_string(static_cast<RiskLevel>(std::clamp(k.risk_level, 0, 2)));
    json exposure = {{"risk", risk},
                     {"windows", k.exposure_windows},
                     {"valid_matches", k.valid_matches},
                     {"suspect_matches", k.suspect_matches}};
    if (k.most_recent_high_risk_day)
        exposure["most_recent_high_risk_day"] = utc_day(*k.most_recent_high_risk_day);
    if (k.most_recent_low_risk_day)
        exposure["most_recent_low_risk_day"] = utc_day(*k.most_recent_low_risk_day);
    j["exposure"] = exposure;
    return j.dump();
}

}  // namespace sotto::sottod
