// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/** Levels of sotto's log ({@code SOTTO_LOG_*}). */
public enum LogLevel {
    DEBUG,
    INFO,
    WARNING,
    ERROR;

    static LogLevel of(int level) {
        LogLevel[] all = values();
        return level >= 0 && level < all.length ? all[level] : ERROR;
    }
}
