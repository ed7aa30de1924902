package org.sotto.example

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import java.util.concurrent.Executors
import org.sotto.Consent
import org.sotto.SottoException
import org.sotto.Tracer
import org.sotto.Upload

/**
 * Starts tracing, shows the counters, and is the one place where the user's own keys are
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
        // sotto releases the keys and sends them in the Exposure Notifications Server's publish
        // format (random padding, nothing else about the user); a refusal is an answer.
        val answer = try {
            tracer().uploadOwnKeys(
                Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                Upload.Options(BuildConfig.KEYS_URL + "/publish", BuildConfig.HEALTH_AUTHORITY_ID, verificationCode())
                    .revisionToken(prefs().getString("revision", null))
            )
        } catch (e: SottoException) {
            runOnUiThread { status.text = "upload failed (${e.codeName()}): try again" }
            return
        }
        if (answer.accepted()) prefs().edit().putString("revision", answer.revisionToken()).apply()
        runOnUiThread {
            status.text = if (answer.accepted()) "shared ${answer.keysSent()} keys"
            else "the server refused: ${answer.code()}"
        }
    }

    private fun prefs() = getSharedPreferences("upload", MODE_PRIVATE)

    /** The verification certificate the health authority's verification server issued. */
    private fun verificationCode(): String = intent.getStringExtra("verification_certificate")
        ?: error("start this activity with the verification certificate of the positive test")
}
