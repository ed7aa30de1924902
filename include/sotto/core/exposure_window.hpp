#pragma once
/// \file
/// GAEN v2 exposure data (EN v1.5+ `ExposureWindow` / `ScanInstance`) and how sotto builds it from
/// what the encounter store recorded.
///
/// The matcher finds the sightings whose RPIs a diagnosis key generates; `build_exposure_windows`
/// turns their scan records into the windows the GAEN API would have returned for that key
/// (google/exposure-notifications-internals `KeyExposureEvaluator.findExposureWindows`,
/// `SightingRecordWithMetadata`, `ExposureWindowUtils`; docs/risk.md):
///
/// * attenuation = `max(tx_power − (rssi + rssi_correction), 0)` (Google "BLE attenuation
///   overview"); typical attenuation from the mean RSSI of a scan, minimum attenuation from the
///   strongest packet;
/// * scan records of the key at most `kScanGroupSeconds` (25 s) after the previous one form one
///   scan instance (GAEN: sightings ≤ 1.5 × (4 + 13) s apart);
/// * a window covers at most 30 minutes: a scan ≥ 30 min after the window's first scan opens a new
///   one; windows are dated by the UTC midnight of their first scan;
/// * `secondsSinceLastScan = 60 × min(5, ⌊t/60⌋ − ⌊prev/60⌋)`, 120 for the first scan.
///
/// Everything here is pure: no clock, no I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/interval.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>
#include <span>
#include <vector>

namespace sotto::core {

/// GAEN `Infectiousness`: how infectious the key's owner was on the key's day, derived from the
/// key's days since onset of symptoms through a `DiagnosisKeysDataMapping`.
enum class Infectiousness : std::uint8_t { kNone = 0, kStandard = 1, kHigh = 2 };

/// GAEN `ScanInstance`: one scan of the receiver that heard the key.
struct ScanInstance {
    /// Mean attenuation over the packets of the scan, dB (≥ 0).
    int typical_attenuation_db = 0;
    /// Attenuation of the strongest packet of the scan, dB (≥ 0, ≤ typical).
    int min_attenuation_db = 0;
    /// Time represented by this scan: a multiple of 60 in 0..300, 120 when unknown.
    int seconds_since_last_scan = 0;

    friend bool operator==(const ScanInstance&, const ScanInstance&) = default;
};

/// GAEN `ExposureWindow`: at most 30 minutes of sightings of one diagnosis key.
struct ExposureWindow {
    /// Unix seconds of the UTC midnight of the day of the window's first scan.
    std::int64_t date_unix = 0;
    ReportType report_type = ReportType::kConfirmedTest;
    Infectiousness infectiousness = Infectiousness::kStandard;
    CalibrationConfidence calibration_confidence = CalibrationConfidence::kLowest;
    /// Ordered by time.
    std::vector<ScanInstance> scan_instances;

    friend bool operator==(const ExposureWindow&, const ExposureWindow&) = default;
};

/// Largest |days since onset| the infectiousness mapping covers (GAEN
/// `MAXIMUM_OFFSET_OF_DAYS_SINCE_ONSET`).
inline constexpr int kMaxDaysSinceOnset = 14;
/// A window spans less than this many seconds after its first scan (GAEN
/// `maxExposureWindowDurationMinutes` = 30).
inline constexpr std::int64_t kExposureWindowSeconds = 30 * 60;
/// Cap of `ScanInstance::seconds_since_last_scan` (GAEN `maxMinutesSinceLastScan` = 5).
inline constexpr int kMaxSecondsSinceLastScan = 300;
/// `ScanInstance::seconds_since_last_scan` when no previous scan is known (GAEN
/// `defaultMinutesSinceLastScan` = 2).
inline constexpr int kDefaultSecondsSinceLastScan = 120;

/// GAEN `DiagnosisKeysDataMapping`: how a key's report type and days since onset of symptoms
/// (DSOS) become the window's report type and infectiousness.
struct DiagnosisKeysDataMapping {
    /// Infectiousness for DSOS −14..+14, at index `dsos + kMaxDaysSinceOnset`. Days a health
    /// authority does not list are kNone, as in GAEN.
    std::array<Infectiousness, 2 * kMaxDaysSinceOnset + 1> days_since_onset_to_infectiousness{};
    /// For keys without DSOS, and for |DSOS| > 14.
    Infectiousness infectiousness_when_dsos_missing = Infectiousness::kNone;
    /// For keys whose report type is kUnknown. GAEN refuses kUnknown here.
    ReportType report_type_when_missing = ReportType::kConfirmedTest;

    /// The Corona-Warn-App mapping (cwa-server `main-config/v2/diagnosis-keys-data-mapping.yaml`):
    /// DSOS 1 → kStandard, DSOS 2 → kHigh, every other DSOS and a missing DSOS → kNone;
    /// report type when missing → kConfirmedTest. CWA servers encode the transmission risk level
    /// into DSOS 1/2 (gaen.md §4.5), so every CWA key maps to kStandard or kHigh.
    static DiagnosisKeysDataMapping cwa_defaults() noexcept;

    friend bool operator==(const DiagnosisKeysDataMapping&,
                           const DiagnosisKeysDataMapping&) = default;
};

/// kInvalidArgument when an enumerator is out of range or `report_type_when_missing` is kUnknown.
Result<void> validate_mapping(const DiagnosisKeysDataMapping& mapping) noexcept;

/// Infectiousness of a key with the given DSOS (GAEN `ExposureWindowUtils.getInfectiousness`):
/// the mapping's entry for |DSOS| ≤ 14, else `infectiousness_when_dsos_missing`.
Infectiousness infectiousness_for(std::optional<std::int32_t> days_since_onset,
                                  const DiagnosisKeysDataMapping& mapping) noexcept;
/// Same, for a diagnosis key.
Infectiousness infectiousness_for(const DiagnosisKey& key,
                                  const DiagnosisKeysDataMapping& mapping) noexcept;

/// The report type a window carries (GAEN `ExposureWindowUtils.getReportType`): kUnknown and
/// values outside the enum become `report_type_when_missing`, the rest pass unchanged.
ReportType effective_report_type(ReportType reported,
                                 const DiagnosisKeysDataMapping& mapping) noexcept;
/// Same, for a diagnosis key.
ReportType effective_report_type(const DiagnosisKey& key,
                                 const DiagnosisKeysDataMapping& mapping) noexcept;

/// Attenuation in dB: `max(tx_power − (rssi + rssi_correction), 0)` (gaen.md §2.6).
///
/// `tx_power_dbm` is the calibrated TX power from the sender's decrypted metadata, not a BLE-layer
/// value; `rssi_correction_db` is the receiver's calibration offset (0 when unknown).
constexpr int attenuation_db(int tx_power_dbm, int rssi_dbm, int rssi_correction_db = 0) noexcept {
    const int a = tx_power_dbm - (rssi_dbm + rssi_correction_db);
    return a < 0 ? 0 : a;
}

/// What the windows of one diagnosis key carry besides the scans.
struct WindowKeyInfo {
    /// Calibrated TX power from the decrypted metadata (dBm).
    int tx_power_dbm = 0;
    /// From the decrypted metadata (kLowest for metadata v1.0).
    CalibrationConfidence calibration_confidence = CalibrationConfidence::kLowest;
    /// Already mapped with `effective_report_type`.
    ReportType report_type = ReportType::kConfirmedTest;
    /// Already mapped with `infectiousness_for`.
    Infectiousness infectiousness = Infectiousness::kStandard;
};

/// The `WindowKeyInfo` for a matched key: TX power and calibration confidence from `metadata`,
/// report type and infectiousness from `key` through `mapping`.
WindowKeyInfo window_key_info(const DiagnosisKey& key, const Metadata& metadata,
                              const DiagnosisKeysDataMapping& mapping) noexcept;

/// Receiver-side parameters of window building.
struct WindowOptions {
    /// Added to every measured RSSI (dB): the receiving device's calibration from Google's
    /// calibration table (`en-calibration-2020-12-14.csv`, column rssi correction). 0 when the
    /// device is not calibrated.
    int rssi_correction_db = 0;
};

/// Builds the exposure windows of one diagnosis key from the scan records of all its matched
/// sightings (any number of RPIs and intervals of that key, in any order).
///
/// Records with no packets are ignored. Scan records of different sightings at most
/// `kScanGroupSeconds` apart (each to the one before) form one scan instance; its typical
/// attenuation comes from the mean RSSI over all their packets (rounded half up, as GAEN's
/// `Math.round` of the mean attenuation), its minimum attenuation from the strongest packet. The
/// previous scan for `seconds_since_last_scan` is the previous record of the same key, in this or
/// an earlier window (the store does not keep the receiver's scan cycles, which GAEN uses; the cap
/// of 300 s bounds the difference).
///
/// Returns no windows when `info.infectiousness` is kNone or `info.report_type` is kRevoked
/// (GAEN never returns those). Other report types, kUnknown included, pass through unchanged: map
/// them with `effective_report_type` first. Windows are ordered by time (GAEN shuffles them; a
/// host that hands windows on should do the same).
std::vector<ExposureWindow> build_exposure_windows(std::span<const ScanRecord> scans,
                                                   const WindowKeyInfo& info,
                                                   const WindowOptions& options = {});

/// Unix seconds of the UTC midnight starting the day that contains `unix_seconds` (also for
/// negative times).
constexpr std::int64_t utc_midnight(std::int64_t unix_seconds) noexcept {
    std::int64_t d = unix_seconds / kSecondsPerDay;
    if (unix_seconds % kSecondsPerDay < 0) --d;
    return d * kSecondsPerDay;
}

}  // namespace sotto::core
