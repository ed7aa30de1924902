#pragma once
/// \file
/// The error type carried by every fallible sotto call.
///
/// Codes are grouped by hundreds and never renumbered: the C ABI mirrors them one to one.

#include <cstdint>

namespace sotto {

/// What went wrong, as a stable number. When switching on it, always include `default:`.
enum class ErrorCode : std::int32_t {
    kOk = 0,

    // Caller bugs and bad input.
    kInvalidArgument = 100,     ///< An argument or an input buffer is malformed.
    kFailedPrecondition = 101,  ///< The call is not valid in the object's current state.
    kOutOfRange = 102,          ///< A number is outside the range the protocol allows.
    kClockSuspect = 103,  ///< The clock is implausible (far from the trusted time); nothing done.
    kCancelled = 104,     ///< The caller cancelled the operation (from another thread).

    // Cryptography.
    kCryptoFailure = 200,         ///< The crypto library failed (out of memory, bad state).
    kAuthenticationFailed = 201,  ///< A signature or authenticated ciphertext did not verify.
    kUntrustedKey = 202,          ///< Signed by a key that is not in the trust store.
    kUnsigned = 203,              ///< No signature where one is required.

    // The encrypted store.
    kStorageIo = 300,            ///< Generic I/O failure of the database.
    kStorageCorrupt = 301,       ///< The file is damaged (truncated, bit-flipped).
    kStorageWrongKey = 302,      ///< The key or passphrase does not open this store.
    kStorageNotAStore = 303,     ///< The file is not a sotto store (or not a database at all).
    kStorageNewerSchema = 304,   ///< The store was written by a newer sotto.
    kStorageReadOnly = 305,      ///< The location cannot be written.
    kStorageFull = 306,          ///< The disk is full.
    kStorageBusy = 307,          ///< Another process holds a lock for too long.
    kStorageNotEncrypted = 308,  ///< The linked SQLite has no SQLCipher codec.

    // BLE radio.
    kBleUnavailable = 400,       ///< No adapter, adapter powered off, or no Bluetooth service.
    kBlePermissionDenied = 401,  ///< The OS or the Bluetooth service denied access.
    kBleBusy = 402,
    kBleRefused = 403,  ///< The adapter refused the advertisement (too long, no slot, rejected).
    kBleTimeout = 404,  ///< The Bluetooth service did not answer in time.

    // Diagnosis-key files.
    kKeyFileMalformed = 500,  ///< Not a valid export.zip / export.bin / export.sig.
    kKeyFileTooLarge = 501,   ///< Exceeds the configured size limits (zip bomb, absurd lengths).
    kKeyFileIo = 502,         ///< The key file cannot be opened, read or written.

    // Resources.
    kOutOfMemory = 600,  ///< An allocation failed. Nothing already stored was lost.

    // Network (key-file downloads).
    kNetworkIo = 700,        ///< The server could not be reached or the transfer broke off.
    kNetworkTimeout = 701,   ///< The server did not answer in time.
    kNetworkTooLarge = 702,  ///< The response exceeds the configured size cap.
    kNetworkHttp = 703,      ///< The server answered with an HTTP error status.
    kNetworkRefused = 704,   ///< The URL is not allowed (plain http to a non-loopback host).

    kInternal = 900,  ///< A bug in sotto.
};

/// An error: a code and a short static description.
///
/// `what` always points to a string literal. It never contains key bytes, identifiers,
/// timestamps or any other user data, so it is safe to log.
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    const char* what = "";

    friend bool operator==(const Error& a, const Error& b) noexcept { return a.code == b.code; }
};

/// The enumerator name of `code` ("kStorageWrongKey"), or "kUnknown".
const char* error_code_name(ErrorCode code) noexcept;

}  // namespace sotto
