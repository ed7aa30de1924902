#pragma once
/// \file
/// From matched RPIs to what a user is told: GAEN v2 exposure windows, daily summaries and the
/// Corona-Warn-App risk.

#include <cstdint>
#include <vector>

#include <sotto/core/daily_summary.hpp>
#include <sotto/core/exposure_window.hpp>
#include <sotto/core/risk.hpp>
#include <sotto/match/options.hpp>
#include <sotto/match/session.hpp>
#include <sotto/result.hpp>

namespace sotto::match {

/// Everything heard of one positive key, in plain terms (for people, not for the risk formula).
struct Encounter {
    std::size_t key_group = 0;    ///< index of the (key, metadata) group
    std::int64_t first_seen = 0;  ///< Unix seconds
    std::int64_t last_seen = 0;
    int minutes = 0;                 ///< Σ seconds_since_last_scan / 60 over its windows
    int min_attenuation_db = 0;      ///< closest moment
    int typical_attenuation_db = 0;  ///< time-weighted mean of the scans' typical attenuation
    core::ReportType report_type = core::ReportType::kConfirmedTest;
    core::Infectiousness infectiousness = core::Infectiousness::kStandard;
    std::size_t rpis = 0;  ///< distinct RPIs heard
    /// Some of its RPIs were also heard with other AEMs (see RpiMatch::metadata_disputed): its
    /// attenuation rests on metadata that a relayer may have chosen.
    bool metadata_disputed = false;
};

struct ExposureReport {
    std::vector<core::ExposureWindow> windows;
    std::vector<core::DailySummary> daily_summaries;
    core::CwaRiskResult risk;
    std::vector<Encounter> encounters;  ///< by time
    std::size_t valid_matches = 0;
    std::size_t suspect_matches = 0;
    std::size_t disputed_matches = 0;  ///< valid matches whose metadata was disputed
};

/// Builds the report from a session's matches at time `now_unix` (for ages and the CWA window).
/// Only `kValid` matches contribute; keys whose infectiousness maps to NONE give no windows.
Result<ExposureReport> build_report(const std::vector<RpiMatch>& matches, std::int64_t now_unix,
                                    const ReportOptions& options = {});

}  // namespace sotto::match
