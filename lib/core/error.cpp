#include <sotto/error.hpp>
#include <sotto/version.hpp>

namespace sotto {

const char* error_code_name(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kOk:
            return "kOk";
        case ErrorCode::kInvalidArgument:
            return "kInvalidArgument";
        case ErrorCode::kFailedPrecondition:
            return "kFailedPrecondition";
        case ErrorCode::kOutOfRange:
            return "kOutOfRange";
        case ErrorCode::kClockSuspect:
            return "kClockSuspect";
        case ErrorCode::kCancelled:
            return "kCancelled";
        case ErrorCode::kCryptoFailure:
            return "kCryptoFailure";
        case ErrorCode::kAuthenticationFailed:
            return "kAuthenticationFailed";
        case ErrorCode::kUntrustedKey:
            return "kUntrustedKey";
        case ErrorCode::kUnsigned:
            return "kUnsigned";
        case ErrorCode::kStorageIo:
            return "kStorageIo";
        case ErrorCode::kStorageCorrupt:
            return "kStorageCorrupt";
        case ErrorCode::kStorageWrongKey:
            return "kStorageWrongKey";
        case ErrorCode::kStorageNotAStore:
            return "kStorageNotAStore";
        case ErrorCode::kStorageNewerSchema:
            return "kStorageNewerSchema";
        case ErrorCode::kStorageReadOnly:
            return "kStorageReadOnly";
        case ErrorCode::kStorageFull:
            return "kStorageFull";
        case ErrorCode::kStorageBusy:
            return "kStorageBusy";
        case ErrorCode::kStorageNotEncrypted:
            return "kStorageNotEncrypted";
        case ErrorCode::kBleUnavailable:
            return "kBleUnavailable";
        case ErrorCode::kBlePermissionDenied:
            return "kBlePermissionDenied";
        case ErrorCode::kBleBusy:
            return "kBleBusy";
        case ErrorCode::kBleRefused:
            return "kBleRefused";
        case ErrorCode::kBleTimeout:
            return "kBleTimeout";
        case ErrorCode::kKeyFileMalformed:
            return "kKeyFileMalformed";
        case ErrorCode::kKeyFileTooLarge:
            return "kKeyFileTooLarge";
        case ErrorCode::kKeyFileIo:
            return "kKeyFileIo";
        case ErrorCode::kOutOfMemory:
            return "kOutOfMemory";
        case ErrorCode::kNetworkIo:
            return "kNetworkIo";
        case ErrorCode::kNetworkTimeout:
            return "kNetworkTimeout";
        case ErrorCode::kNetworkTooLarge:
            return "kNetworkTooLarge";
        case ErrorCode::kNetworkHttp:
            return "kNetworkHttp";
        case ErrorCode::kNetworkRefused:
            return "kNetworkRefused";
        case ErrorCode::kInternal:
            return "kInternal";
        default:
            return "kUnknown";
    }
}

const char* version_string() noexcept { return "0.1.0"; }

}  // namespace sotto
