#pragma once
/// \file
/// How the matching engine and the exposure report are configured: plain values, for
/// declarations that need them without the engine (the Tracer's options).

#include <cstddef>

#include <sotto/core/daily_summary.hpp>
#include <sotto/core/exposure_window.hpp>
#include <sotto/core/match_options.hpp>
#include <sotto/core/risk.hpp>

namespace sotto::match {

struct EngineOptions {
    core::MatchOptions match;
    /// Worker threads; 0 = one per hardware thread.
    unsigned threads = 0;
    /// Keys per unit of work handed to a thread.
    std::size_t chunk_keys = 2048;
};

struct ReportOptions {
    core::DiagnosisKeysDataMapping mapping = core::DiagnosisKeysDataMapping::cwa_defaults();
    core::WindowOptions window;  ///< the receiver's RSSI correction
    core::CwaRiskConfig cwa = core::CwaRiskConfig::defaults();
    core::DailySummariesConfig summaries;
};

}  // namespace sotto::match
