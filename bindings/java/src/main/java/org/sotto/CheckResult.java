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
 */
public record CheckResult(long computedAt, long sightings, long validMatches, long suspectMatches,
        long mostRecentLowRiskDate, long mostRecentHighRiskDate, int totalRiskLevel,
        boolean recorded, List<ImportResult> files, List<ExposureWindow> windows,
        List<DailySummary> dailySummaries, List<RiskDay> riskDays) {
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
