#pragma once
// Internal helpers of the C ABI shims: the try/catch boundary, Error -> sotto_status, and the
// thread-local last error message.

#include <new>

#include <sotto/sotto.h>
#include <sotto/error.hpp>
#include <sotto/result.hpp>

namespace sotto::capi {

/// Remembers `what` (a static string) as the calling thread's last error and returns `status`.
sotto_status fail(sotto_status status, const char* what) noexcept;

/// `fail` with the code and message of a C++ error.
inline sotto_status fail(const Error& e) noexcept {
    return fail(static_cast<sotto_status>(e.code), e.what);
}

/// The C ABI boundary: runs `body` (which returns sotto_status) and turns every exception into a
/// status. Every exported function that can reach C++ code goes through it.
template <class Body>
sotto_status guard(Body&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(SOTTO_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (...) {
        return fail(SOTTO_ERR_INTERNAL, "unexpected exception inside sotto");
    }
}

/// A (ptr, len) byte input is valid unless ptr is NULL with a non-zero length.
inline bool bytes_ok(const void* ptr, std::size_t len) noexcept {
    return ptr != nullptr || len == 0;
}

inline sotto_status null_argument() noexcept {
    return fail(SOTTO_ERR_INVALID_ARGUMENT, "a required pointer argument is NULL");
}

}  // namespace sotto::capi
