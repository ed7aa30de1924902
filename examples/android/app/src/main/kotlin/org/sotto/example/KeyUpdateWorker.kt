package org.sotto.example

import android.content.Context
import android.util.Log
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import java.io.File
import java.util.concurrent.TimeUnit
import org.sotto.CheckResult
import org.sotto.KeyUpdater
import org.sotto.SottoException

/**
 * Runs sotto's key updater a few times a day on an unmetered network: downloads the new key
 * files of the health authority's export bucket, verifies them, checks them and remembers what
 * was used or refused. WorkManager's stop (constraints lost, the app killed for space) cancels
 * the round within a fraction of a second; the next run picks up what is left.
 */
class KeyUpdateWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    @Volatile private var updater: KeyUpdater? = null

    override fun doWork(): Result {
        val tracer = (applicationContext as SottoApp).tracer
        val state = File(applicationContext.noBackupFilesDir, "sotto-keys")
        return try {
            KeyUpdater.create(tracer, BuildConfig.KEYS_URL, state, KeyUpdater.Options()).use { u ->
                updater = u
                if (isStopped) return Result.retry()
                val round = u.run { p -> setProgressAsync(androidx.work.Data.Builder()
                    .putLong("files_done", p.filesDone()).putLong("files_total", p.filesTotal()).build()) }
                if (round.cancelled()) return Result.retry()
                round.check()?.let(::notifyIfExposed)
                if (round.failed() > 0) Result.retry() else Result.success()
            }
        } catch (e: SottoException) {
            Log.w("sotto", "key update: ${e.codeName()}")
            Result.retry()
        } finally {
            updater = null
        }
    }

    override fun onStopped() {
        updater?.cancel() // safe from any thread, also while run() is inside a download
    }

    private fun notifyIfExposed(check: CheckResult) {
        if (check.totalRiskLevel() == CheckResult.RISK_HIGH) {
            Log.i("sotto", "high risk: show the exposure notification") // the app's own UI
        }
    }

    companion object {
        fun schedule(wm: WorkManager, policy: ExistingPeriodicWorkPolicy) {
            val request = PeriodicWorkRequestBuilder<KeyUpdateWorker>(4, TimeUnit.HOURS)
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.UNMETERED).build())
                .build()
            wm.enqueueUniquePeriodicWork("sotto-key-update", policy, request)
        }
    }
}
