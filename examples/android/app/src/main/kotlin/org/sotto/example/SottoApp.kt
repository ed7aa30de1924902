package org.sotto.example

import android.app.Application
import android.util.Log
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.WorkManager
import java.io.File
import org.sotto.LogLevel
import org.sotto.Sotto
import org.sotto.Tracer
import org.sotto.TrustStore

/** Opens the one Tracer of the process (its store key unwrapped with the Android Keystore). */
class SottoApp : Application() {
    lateinit var tracer: Tracer
        private set

    override fun onCreate() {
        super.onCreate()
        // sotto's messages at INFO and above are static text and counts: safe for logcat.
        Sotto.setLogSink({ level, message -> Log.println(priority(level), "sotto", message) }, LogLevel.INFO)
        val trust = TrustStore().addPem(assets.open("authority.pem").readBytes().decodeToString(), "262", "v1")
        val key = StoreKey.unwrapOrCreate(this)
        try {
            // No clock option: the system clock, with the boot-time clock as a second source.
            tracer = Tracer.open(File(noBackupFilesDir, "sotto.db"), key, Tracer.Options().trust(trust)
                .advertisingForm(Tracer.ADV_WITHOUT_FLAGS))
        } finally {
            key.fill(0)
        }
        KeyUpdateWorker.schedule(WorkManager.getInstance(this), ExistingPeriodicWorkPolicy.KEEP)
    }

    private fun priority(level: LogLevel) = when (level) {
        LogLevel.DEBUG -> Log.DEBUG
        LogLevel.INFO -> Log.INFO
        LogLevel.WARNING -> Log.WARN
        LogLevel.ERROR -> Log.ERROR
    }
}
