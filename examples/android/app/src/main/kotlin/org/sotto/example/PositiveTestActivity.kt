package org.sotto.example

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.os.Bundle
import android.util.Base64
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import java.net.URL
import java.util.concurrent.Executors
import javax.net.ssl.HttpsURLConnection
import org.json.JSONArray
import org.json.JSONObject
import org.sotto.Consent
import org.sotto.DiagnosisKey
import org.sotto.Tracer

/**
 * Starts tracing, shows the last check, and is the one place where the user's own keys are
 * released: only after the user confirmed the upload in this dialog, which is why it is the only
 * use of Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS in the app (grep for it).
 */
class PositiveTestActivity : Activity() {
    private val io = Executors.newSingleThreadExecutor()
    private lateinit var status: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        startForegroundService(Intent(this, TracingService::class.java))
        status = TextView(this)
        val upload = Button(this).apply { text = "I tested positive: share my keys" }
        upload.setOnClickListener { confirmUpload() }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(status)
            addView(upload)
        })
        showStatus()
    }

    private fun tracer(): Tracer = (application as SottoApp).tracer

    private fun showStatus() = io.execute {
        val s = tracer().status()
        runOnUiThread { status.text = "heard ${s.heard()}, stored ${s.stored()}, checks ${s.checks()}" }
    }

    private fun confirmUpload() {
        AlertDialog.Builder(this)
            .setTitle("Share your keys?")
            .setMessage("Your random keys of the last 14 days will be sent to the health authority so " +
                "that people you met are warned. Nothing else leaves this phone.")
            .setPositiveButton("Share") { _, _ -> io.execute { release() } }
            .setNegativeButton("Cancel", null)
            .show()
    }

    /** Runs only from the confirmation above. */
    private fun release() {
        val keys = tracer().releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS)
        try {
            upload(keys)
            runOnUiThread { status.text = "shared ${keys.size} keys" }
        } finally {
            keys.forEach(DiagnosisKey::destroy)
        }
    }

    /** POSTs the keys as the Google exposure-notifications server's publish API expects. */
    private fun upload(keys: List<DiagnosisKey>) {
        val body = JSONObject().put("temporaryExposureKeys", JSONArray().apply {
            for (k in keys) put(JSONObject()
                .put("key", Base64.encodeToString(k.tek(), Base64.NO_WRAP))
                .put("rollingStartNumber", k.rollingStartInterval())
                .put("rollingPeriod", k.rollingPeriod()))
        })
        val conn = URL(BuildConfig.KEYS_URL + "/publish").openConnection() as HttpsURLConnection
        try {
            conn.requestMethod = "POST"
            conn.doOutput = true
            conn.setRequestProperty("Content-Type", "application/json")
            conn.outputStream.use { it.write(body.toString().toByteArray()) }
            check(conn.responseCode in 200..299) { "upload refused: HTTP ${conn.responseCode}" }
        } finally {
            conn.disconnect()
        }
    }
}
