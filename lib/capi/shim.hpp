#pragma once
// Internal helpers of the C ABI shims: the try/catch boundary, Error -> sotto_status, and the
// thread-local last error message.

#include <algorithm>
#include <cstddef>
#include <cstring>
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

/// The growable-struct convention of output structs (sotto.h): the caller sets
/// `out->struct_size` to the sizeof of the struct it was compiled with; the library writes the
/// first min(struct_size, sizeof(T)) bytes of `value` and leaves `struct_size` as the caller set
/// it. `min_size` is the size of the struct's first published layout: anything smaller is
/// SOTTO_ERR_INVALID_ARGUMENT (struct_size not set). Fields the caller's struct lacks are not
/// written.
template <class T>
sotto_status fill_sized(T* out, const T& value, std::size_t min_size) noexcept {
    if (out == nullptr) return null_argument();
    const std::uint32_t size = out->struct_size;
    if (size < min_size)
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "struct_size: set it to sizeof the struct");
    T copy = value;
    copy.struct_size = size;
    std::memcpy(static_cast<void*>(out), &copy, std::min<std::size_t>(size, sizeof(T)));
    return SOTTO_OK;
}

}  // namespace sotto::capi
