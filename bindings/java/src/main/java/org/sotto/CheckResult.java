// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.util.List;

/**
 * The result of one exposure check ({@code sotto_check} with its summary and arrays), read in
 * full when {@link Tracer#check()} returns. Dates are UTC midnights in Unix seconds.
 *
 * @param suspectMatches          RPI matches whose metadata did not check out (not counted)
 * @param totalRiskLevel          {@link #RISK_LOW} or {@link #RISK_HIGH} (Corona-Warn-App)
 * @param mostRecentLowRiskDate   0 when none
 * @param mostRecentHighRiskDate  0 when none
 * @param recorded                the results were written to the store
 * @param files                   the files of the round, with the RPIs each matched
 * @param riskDays                one entry per evaluated day, newest first
 * @param counters                the round's counters (keys, matcher, disputed matches, encounters)
 */
public record CheckResult(long computedAt, long sightings, long validMatches, long suspectMatches,
        long mostRecentLowRiskDate, long mostRecentHighRiskDate, int totalRiskLevel,
        boolean recorded, List<ImportResult> files, List<ExposureWindow> windows,
        List<DailySummary> dailySummaries, List<RiskDay> riskDays, Counters counters) {
    /**
     * The counters of a check ({@code sotto_check_summary}).
     *
     * @param disputedMatches    valid matches whose RPI was heard with more than one AEM
     * @param encounters         contacts: the windows of one (key, metadata) group, summed
     * @param keys               keys received from the matched files
     * @param keysRevoked        of those, report type REVOKED: not matched
     * @param keysChecked        keys whose RPIs the matcher derived
     * @param keysSkipped        keys with no sighting in reach
     * @param keysInvalid        rolling period outside 1..144
     * @param rpisMatched        derived RPIs found among the sightings
     * @param matcherKeysRevoked REVOKED keys the matcher itself skipped
     */
    public record Counters(long disputedMatches, long encounters, long keys, long keysRevoked,
            long keysChecked, long keysSkipped, long keysInvalid, long rpisDerived,
            long rpisMatched, long matcherKeysRevoked) {}

    public static final int RISK_NONE = 0;
    public static final int RISK_LOW = 1;
    public static final int RISK_HIGH = 2;

    /** GAEN ExposureWindow. */
    public record ExposureWindow(long dateUnix, int reportType, int infectiousness,
            int calibrationConfidence, List<ScanInstance> scanInstances) {}

    /** GAEN ScanInstance. */
    public record ScanInstance(int typicalAttenuationDb, int minAttenuationDb,
            int secondsSinceLastScan) {}

    /** GAEN DailySummary over all report types. */
    public record DailySummary(long dateUnix, double maximumScore, double scoreSum,
            double weightedDurationSum) {}

    /** One day of the CWA risk evaluation. */
    public record RiskDay(long dateUnix, double normalizedTime, int riskLevel,
            int minimumDistinctEncountersWithLowRisk, int minimumDistinctEncountersWithHighRisk) {}
}
