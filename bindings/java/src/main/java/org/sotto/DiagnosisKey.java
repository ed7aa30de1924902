// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.util.Arrays;
import javax.security.auth.Destroyable;

/**
 * A temporary exposure key with its validity ({@code sotto_diagnosis_key}), as released by
 * {@link Tracer#releaseOwnKeys}. The key bytes are secret until uploaded: {@link #destroy()}
 * overwrites them (the list's owner should, once the upload is done).
 */
public final class DiagnosisKey implements Destroyable {
    private final byte[] tek;
    private final long rollingStartInterval;
    private final int rollingPeriod;
    private final int transmissionRiskLevel;
    private final int reportType;
    private final Integer daysSinceOnset;
    private volatile boolean destroyed;

    DiagnosisKey(byte[] tek, long rollingStartInterval, int rollingPeriod, int transmissionRiskLevel,
            int reportType, Integer daysSinceOnset) {
        this.tek = tek;
        this.rollingStartInterval = rollingStartInterval;
        this.rollingPeriod = rollingPeriod;
        this.transmissionRiskLevel = transmissionRiskLevel;
        this.reportType = reportType;
        this.daysSinceOnset = daysSinceOnset;
    }

    /** A copy of the 16 key bytes. IllegalStateException after {@link #destroy()}. */
    public byte[] tek() {
        if (destroyed) throw new IllegalStateException("key destroyed");
        return tek.clone();
    }

    /** ENIntervalNumber of the first interval the key was valid for. */
    public long rollingStartInterval() {
        return rollingStartInterval;
    }

    /** Intervals of validity (1..144). */
    public int rollingPeriod() {
        return rollingPeriod;
    }

    public int transmissionRiskLevel() {
        return transmissionRiskLevel;
    }

    /** GAEN ReportType (0 unknown .. 5 revoked). */
    public int reportType() {
        return reportType;
    }

    /** Days since the onset of symptoms, or null when not set. */
    public Integer daysSinceOnset() {
        return daysSinceOnset;
    }

    /** True when {@code interval} lies in the key's validity. */
    public boolean coversInterval(long interval) {
        return interval >= rollingStartInterval && interval < rollingStartInterval + rollingPeriod;
    }

    @Override
    public void destroy() {
        Arrays.fill(tek, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "DiagnosisKey{rollingStartInterval=" + rollingStartInterval + ", rollingPeriod="
                + rollingPeriod + "}"; // never the key bytes
    }
}
