package org.sotto.example

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The 32-byte key of sotto's encrypted store, wrapped by an Android Keystore key: a random key
 * is made once, encrypted with AES-256-GCM under a non-exportable Keystore key, and only the
 * wrapped form is kept (in noBackupFilesDir: it must not reach a backup). Unwrapped at start,
 * handed to Tracer.open (which copies it) and wiped by the caller.
 */
object StoreKey {
    private const val ALIAS = "sotto-store-key-wrap"
    private const val FILE = "sotto-store.key.wrapped"

    fun unwrapOrCreate(context: Context): ByteArray {
        val file = File(context.noBackupFilesDir, FILE)
        val wrapping = keystoreKey()
        if (file.exists()) {
            val blob = file.readBytes()
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, wrapping, GCMParameterSpec(128, blob, 0, 12))
            return cipher.doFinal(blob, 12, blob.size - 12)
        }
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, wrapping) // the Keystore picks the IV
        val wrapped = cipher.iv + cipher.doFinal(key)
        val tmp = File(file.path + ".tmp")
        tmp.writeBytes(wrapped)
        check(tmp.renameTo(file)) { "could not store the wrapped key" }
        return key
    }

    private fun keystoreKey(): SecretKey {
        val ks = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (ks.getEntry(ALIAS, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val gen = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        gen.init(
            KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build()
        )
        return gen.generateKey()
    }
}
