package org.sotto.example

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.Service
import android.bluetooth.BluetoothManager
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.bluetooth.le.BluetoothLeAdvertiser
import android.bluetooth.le.BluetoothLeScanner
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Intent
import android.os.Handler
import android.os.IBinder
import android.os.Looper
import android.os.ParcelUuid
import android.os.SystemClock
import android.util.Log
import org.sotto.HeardBatch
import org.sotto.SottoException
import org.sotto.TickReport
import org.sotto.Tracer

/**
 * Contact tracing in a foreground service: advertises what the Tracer hands out (non-connectable,
 * restarted with the new payload, and so a new random address, at every rotation), scans for
 * 0xFD6F service data and passes what it hears to the Tracer in batches, and ticks every minute.
 * Needs BLUETOOTH_ADVERTISE and BLUETOOTH_SCAN granted (Android 12+) before it is started.
 */
class TracingService : Service() {
    private val handler = Handler(Looper.getMainLooper())
    private lateinit var tracer: Tracer
    private var advertiser: BluetoothLeAdvertiser? = null
    private var scanner: BluetoothLeScanner? = null
    private val batch = HeardBatch(64) // used on the main thread only (scan callbacks run there)

    override fun onCreate() {
        super.onCreate()
        tracer = (application as SottoApp).tracer
        startForeground(1, notification())
        val adapter = getSystemService(BluetoothManager::class.java).adapter
        advertiser = adapter.bluetoothLeAdvertiser
        scanner = adapter.bluetoothLeScanner
        advertise()
        scan()
        tick()
    }

    override fun onDestroy() {
        handler.removeCallbacksAndMessages(null)
        advertiser?.stopAdvertising(advertiseCallback)
        scanner?.stopScan(scanCallback)
        tracer.flush()
        super.onDestroy()
    }

    override fun onBind(intent: Intent?): IBinder? = null

    // ---- Advertising: one payload per rotation --------------------------------------------

    private val advertiseCallback = object : AdvertiseCallback() {
        override fun onStartFailure(errorCode: Int) = Log.w(TAG, "advertising failed: $errorCode")
    }

    private fun advertise() {
        val adv = tracer.currentAdvertisement()
        advertiser?.stopAdvertising(advertiseCallback)
        if (adv.active()) { // inactive: a pause after opening or a release; broadcast nothing
            val settings = AdvertiseSettings.Builder()
                .setConnectable(false)
                .setAdvertiseMode(AdvertiseSettings.ADVERTISE_MODE_LOW_POWER)
                .setTxPowerLevel(AdvertiseSettings.ADVERTISE_TX_POWER_MEDIUM)
                .build()
            val data = AdvertiseData.Builder()
                .addServiceUuid(FD6F)
                .addServiceData(FD6F, adv.serviceData())
                .setIncludeDeviceName(false)
                .setIncludeTxPowerLevel(false)
                .build()
            // A fresh start: Android draws a new resolvable private address with the new RPI.
            advertiser?.startAdvertising(settings, data, advertiseCallback)
        }
        val delay = (adv.validUntilMillis() - System.currentTimeMillis()).coerceIn(1_000, 20 * 60_000)
        handler.postDelayed(::advertise, delay)
    }

    // ---- Scanning: a filter on 0xFD6F, batched results --------------------------------------

    private val scanCallback = object : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) = onBatchScanResults(listOf(result))

        override fun onBatchScanResults(results: List<ScanResult>) {
            batch.clear()
            // Reception time: the result's elapsed-realtime stamp moved onto the wall clock.
            val offset = System.currentTimeMillis() - SystemClock.elapsedRealtime()
            for (r in results) {
                val data = r.scanRecord?.getServiceData(FD6F) ?: continue
                if (data.size > HeardBatch.MAX_BYTES) continue
                batch.add(data, r.rssi, offset + r.timestampNanos / 1_000_000)
            }
            if (batch.size() == 0) return
            try {
                tracer.onAdvertisements(batch) // malformed ones are counted, not thrown
            } catch (e: SottoException) {
                Log.w(TAG, "storing heard advertisements failed (${e.codeName()}); kept pending")
            }
        }

        override fun onScanFailed(errorCode: Int) = Log.w(TAG, "scan failed: $errorCode")
    }

    private fun scan() {
        val filter = ScanFilter.Builder().setServiceData(FD6F, ByteArray(0), ByteArray(0)).build()
        val settings = ScanSettings.Builder()
            .setScanMode(ScanSettings.SCAN_MODE_LOW_POWER)
            .setReportDelay(60_000) // batches: one JNI crossing per batch
            .build()
        scanner?.startScan(listOf(filter), settings, scanCallback)
    }

    // ---- Periodic work ------------------------------------------------------------------

    private fun tick() {
        try {
            val report = tracer.tick()
            if (report.retention() == TickReport.RETENTION_PAUSED_CLOCK_SUSPECT && Settings.autoTime(this)) {
                // The OS keeps network time: vouch for the clock so retention can run.
                tracer.applyRetention(true)
            }
        } catch (e: SottoException) {
            Log.w(TAG, "tick: ${e.codeName()}")
        }
        handler.postDelayed(::tick, 60_000)
    }

    private fun notification(): Notification {
        val nm = getSystemService(NotificationManager::class.java)
        nm.createNotificationChannel(NotificationChannel("tracing", "Contact tracing", NotificationManager.IMPORTANCE_LOW))
        return Notification.Builder(this, "tracing").setContentTitle("Contact tracing is on")
            .setSmallIcon(android.R.drawable.stat_sys_data_bluetooth).build()
    }

    private object Settings {
        fun autoTime(service: Service) =
            android.provider.Settings.Global.getInt(service.contentResolver, android.provider.Settings.Global.AUTO_TIME, 0) == 1
    }

    companion object {
        private const val TAG = "sotto"
        val FD6F: ParcelUuid = ParcelUuid.fromString("0000fd6f-0000-1000-8000-00805f9b34fb")
    }
}
