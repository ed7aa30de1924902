// Versions, status names, sizes, and the compile-time proof that the C status codes are the
// C++ error codes.
#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/store/credential.hpp>
#include <sotto/version.hpp>

#include "capi/shim.hpp"

namespace {

using sotto::ErrorCode;
constexpr sotto_status c(ErrorCode e) { return static_cast<sotto_status>(e); }

static_assert(sizeof(sotto_status) == sizeof(ErrorCode));
static_assert(SOTTO_OK == c(ErrorCode::kOk));
static_assert(SOTTO_ERR_INVALID_ARGUMENT == c(ErrorCode::kInvalidArgument));
static_assert(SOTTO_ERR_FAILED_PRECONDITION == c(ErrorCode::kFailedPrecondition));
static_assert(SOTTO_ERR_OUT_OF_RANGE == c(ErrorCode::kOutOfRange));
static_assert(SOTTO_ERR_CLOCK_SUSPECT == c(ErrorCode::kClockSuspect));
static_assert(SOTTO_ERR_CANCELLED == c(ErrorCode::kCancelled));
static_assert(SOTTO_ERR_CRYPTO_FAILURE == c(ErrorCode::kCryptoFailure));
static_assert(SOTTO_ERR_AUTHENTICATION_FAILED == c(ErrorCode::kAuthenticationFailed));
static_assert(SOTTO_ERR_UNTRUSTED_KEY == c(ErrorCode::kUntrustedKey));
static_assert(SOTTO_ERR_UNSIGNED == c(ErrorCode::kUnsigned));
static_assert(SOTTO_ERR_STORAGE_IO == c(ErrorCode::kStorageIo));
static_assert(SOTTO_ERR_STORAGE_CORRUPT == c(ErrorCode::kStorageCorrupt));
static_assert(SOTTO_ERR_STORAGE_WRONG_KEY == c(ErrorCode::kStorageWrongKey));
static_assert(SOTTO_ERR_STORAGE_NOT_A_STORE == c(ErrorCode::kStorageNotAStore));
static_assert(SOTTO_ERR_STORAGE_NEWER_SCHEMA == c(ErrorCode::kStorageNewerSchema));
static_assert(SOTTO_ERR_STORAGE_READ_ONLY == c(ErrorCode::kStorageReadOnly));
static_assert(SOTTO_ERR_STORAGE_FULL == c(ErrorCode::kStorageFull));
static_assert(SOTTO_ERR_STORAGE_BUSY == c(ErrorCode::kStorageBusy));
static_assert(SOTTO_ERR_STORAGE_NOT_ENCRYPTED == c(ErrorCode::kStorageNotEncrypted));
static_assert(SOTTO_ERR_BLE_UNAVAILABLE == c(ErrorCode::kBleUnavailable));
static_assert(SOTTO_ERR_BLE_PERMISSION_DENIED == c(ErrorCode::kBlePermissionDenied));
static_assert(SOTTO_ERR_BLE_BUSY == c(ErrorCode::kBleBusy));
static_assert(SOTTO_ERR_BLE_REFUSED == c(ErrorCode::kBleRefused));
static_assert(SOTTO_ERR_BLE_TIMEOUT == c(ErrorCode::kBleTimeout));
static_assert(SOTTO_ERR_KEYFILE_MALFORMED == c(ErrorCode::kKeyFileMalformed));
static_assert(SOTTO_ERR_KEYFILE_TOO_LARGE == c(ErrorCode::kKeyFileTooLarge));
static_assert(SOTTO_ERR_KEYFILE_IO == c(ErrorCode::kKeyFileIo));
static_assert(SOTTO_ERR_OUT_OF_MEMORY == c(ErrorCode::kOutOfMemory));
static_assert(SOTTO_ERR_NETWORK_IO == c(ErrorCode::kNetworkIo));
static_assert(SOTTO_ERR_NETWORK_TIMEOUT == c(ErrorCode::kNetworkTimeout));
static_assert(SOTTO_ERR_NETWORK_TOO_LARGE == c(ErrorCode::kNetworkTooLarge));
static_assert(SOTTO_ERR_NETWORK_HTTP == c(ErrorCode::kNetworkHttp));
static_assert(SOTTO_ERR_NETWORK_REFUSED == c(ErrorCode::kNetworkRefused));
static_assert(SOTTO_ERR_INTERNAL == c(ErrorCode::kInternal));

static_assert(SOTTO_TEK_BYTES == sotto::core::kTekBytes);
static_assert(SOTTO_RPI_BYTES == sotto::core::kRpiBytes);
static_assert(SOTTO_AEM_BYTES == sotto::core::kAemBytes);
static_assert(SOTTO_SERVICE_DATA_BYTES == sotto::core::kServiceDataBytes);
static_assert(SOTTO_ADVERTISING_DATA_MAX_BYTES == sizeof(sotto::core::AdvertisingData::bytes));
static_assert(SOTTO_STORE_KEY_BYTES == sotto::store::kStoreKeyBytes);
static_assert(SOTTO_INTERVALS_PER_DAY == sotto::core::kTekRollingPeriod);

thread_local const char* t_last_error = "";

}  // namespace

namespace sotto::capi {
sotto_status fail(sotto_status status, const char* what) noexcept {
    t_last_error = what != nullptr ? what : "";
    return status;
}
}  // namespace sotto::capi

extern "C" {

SOTTO_API const char* sotto_status_name(sotto_status status) {
    switch (status) {
        case SOTTO_OK:
            return "SOTTO_OK";
        case SOTTO_ERR_INVALID_ARGUMENT:
            return "SOTTO_ERR_INVALID_ARGUMENT";
        case SOTTO_ERR_FAILED_PRECONDITION:
            return "SOTTO_ERR_FAILED_PRECONDITION";
        case SOTTO_ERR_OUT_OF_RANGE:
            return "SOTTO_ERR_OUT_OF_RANGE";
        case SOTTO_ERR_CLOCK_SUSPECT:
            return "SOTTO_ERR_CLOCK_SUSPECT";
        case SOTTO_ERR_CANCELLED:
            return "SOTTO_ERR_CANCELLED";
        case SOTTO_ERR_CRYPTO_FAILURE:
            return "SOTTO_ERR_CRYPTO_FAILURE";
        case SOTTO_ERR_AUTHENTICATION_FAILED:
            return "SOTTO_ERR_AUTHENTICATION_FAILED";
        case SOTTO_ERR_UNTRUSTED_KEY:
            return "SOTTO_ERR_UNTRUSTED_KEY";
        case SOTTO_ERR_UNSIGNED:
            return "SOTTO_ERR_UNSIGNED";
        case SOTTO_ERR_STORAGE_IO:
            return "SOTTO_ERR_STORAGE_IO";
        case SOTTO_ERR_STORAGE_CORRUPT:
            return "SOTTO_ERR_STORAGE_CORRUPT";
        case SOTTO_ERR_STORAGE_WRONG_KEY:
            return "SOTTO_ERR_STORAGE_WRONG_KEY";
        case SOTTO_ERR_STORAGE_NOT_A_STORE:
            return "SOTTO_ERR_STORAGE_NOT_A_STORE";
        case SOTTO_ERR_STORAGE_NEWER_SCHEMA:
            return "SOTTO_ERR_STORAGE_NEWER_SCHEMA";
        case SOTTO_ERR_STORAGE_READ_ONLY:
            return "SOTTO_ERR_STORAGE_READ_ONLY";
        case SOTTO_ERR_STORAGE_FULL:
            return "SOTTO_ERR_STORAGE_FULL";
        case SOTTO_ERR_STORAGE_BUSY:
            return "SOTTO_ERR_STORAGE_BUSY";
        case SOTTO_ERR_STORAGE_NOT_ENCRYPTED:
            return "SOTTO_ERR_STORAGE_NOT_ENCRYPTED";
        case SOTTO_ERR_BLE_UNAVAILABLE:
            return "SOTTO_ERR_BLE_UNAVAILABLE";
        case SOTTO_ERR_BLE_PERMISSION_DENIED:
            return "SOTTO_ERR_BLE_PERMISSION_DENIED";
        case SOTTO_ERR_BLE_BUSY:
            return "SOTTO_ERR_BLE_BUSY";
        case SOTTO_ERR_BLE_REFUSED:
            return "SOTTO_ERR_BLE_REFUSED";
        case SOTTO_ERR_BLE_TIMEOUT:
            return "SOTTO_ERR_BLE_TIMEOUT";
        case SOTTO_ERR_KEYFILE_MALFORMED:
            return "SOTTO_ERR_KEYFILE_MALFORMED";
        case SOTTO_ERR_KEYFILE_TOO_LARGE:
            return "SOTTO_ERR_KEYFILE_TOO_LARGE";
        case SOTTO_ERR_KEYFILE_IO:
            return "SOTTO_ERR_KEYFILE_IO";
        case SOTTO_ERR_OUT_OF_MEMORY:
            return "SOTTO_ERR_OUT_OF_MEMORY";
        case SOTTO_ERR_NETWORK_IO:
            return "SOTTO_ERR_NETWORK_IO";
        case SOTTO_ERR_NETWORK_TIMEOUT:
            return "SOTTO_ERR_NETWORK_TIMEOUT";
        case SOTTO_ERR_NETWORK_TOO_LARGE:
            return "SOTTO_ERR_NETWORK_TOO_LARGE";
        case SOTTO_ERR_NETWORK_HTTP:
            return "SOTTO_ERR_NETWORK_HTTP";
        case SOTTO_ERR_NETWORK_REFUSED:
            return "SOTTO_ERR_NETWORK_REFUSED";
        case SOTTO_ERR_INTERNAL:
            return "SOTTO_ERR_INTERNAL";
        default:
            return "SOTTO_ERR_UNKNOWN";
    }
}

SOTTO_API const char* sotto_last_error_message(void) { return t_last_error; }
SOTTO_API const char* sotto_version(void) { return sotto::version_string(); }
SOTTO_API uint32_t sotto_abi_version(void) { return SOTTO_ABI_VERSION; }

SOTTO_API size_t sotto_tek_bytes(void) { return SOTTO_TEK_BYTES; }
SOTTO_API size_t sotto_rpi_bytes(void) { return SOTTO_RPI_BYTES; }
SOTTO_API size_t sotto_aem_bytes(void) { return SOTTO_AEM_BYTES; }
SOTTO_API size_t sotto_service_data_bytes(void) { return SOTTO_SERVICE_DATA_BYTES; }
SOTTO_API size_t sotto_advertising_data_max_bytes(void) { return SOTTO_ADVERTISING_DATA_MAX_BYTES; }
SOTTO_API size_t sotto_store_key_bytes(void) { return SOTTO_STORE_KEY_BYTES; }
SOTTO_API size_t sotto_intervals_per_day(void) { return SOTTO_INTERVALS_PER_DAY; }

}  // extern "C"
