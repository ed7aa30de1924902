#pragma once
// Internal helpers of the C ABI shims: the try/catch boundary, Error -> sotto_status, and the
// thread-local last error message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

/// The growable-struct convention of output structs (sotto.h, "Structs can grow"): the caller
/// sets `out->struct_size` to the sizeof of the struct it was compiled with; the library writes
/// the first min(struct_size, sizeof(T)) bytes of `value` and sets `struct_size` to that count.
/// `min_size` is the size of the struct's first layout: anything smaller is
/// SOTTO_ERR_INVALID_ARGUMENT (struct_size not set) and nothing is written. Bytes past sizeof(T)
/// (a newer caller's fields) are not touched.
template <class T>
sotto_status fill_sized(T* out, const T& value, std::size_t min_size) noexcept {
    static_assert(offsetof(T, struct_size) == 0 && sizeof(T::struct_size) == 4);
    if (out == nullptr) return null_argument();
    const std::uint32_t size = out->struct_size;
    if (size < min_size)
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "struct_size: set it to sizeof the struct");
    T copy = value;
    copy.struct_size = static_cast<std::uint32_t>(std::min<std::size_t>(size, sizeof(T)));
    std::memcpy(static_cast<void*>(out), &copy, copy.struct_size);
    return SOTTO_OK;
}

/// `fill_sized` where the caller passes its sizeof as `size` instead of setting `struct_size`
/// (the `*_options_init_sized` functions, whose struct holds nothing yet): the first
/// min(size, sizeof(T)) bytes of `value`, `struct_size` set to that count; `size` below
/// `min_size` is SOTTO_ERR_INVALID_ARGUMENT and nothing is written.
template <class T>
sotto_status fill_first(T* out, const T& value, std::size_t size, std::size_t min_size) noexcept {
    static_assert(offsetof(T, struct_size) == 0 && sizeof(T::struct_size) == 4);
    if (out == nullptr) return null_argument();
    if (size < min_size)
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "size: pass sizeof the options struct");
    T copy = value;
    copy.struct_size = static_cast<std::uint32_t>(std::min<std::size_t>(size, sizeof(T)));
    std::memcpy(static_cast<void*>(out), &copy, copy.struct_size);
    return SOTTO_OK;
}

/// Checks an output struct's `struct_size` before any work is done (`out` may be NULL when the
/// output is optional), so a call that would fail to fill it changes nothing.
template <class T>
sotto_status check_sized(const T* out, std::size_t min_size) noexcept {
    if (out != nullptr && out->struct_size < min_size)
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "struct_size: set it to sizeof the struct");
    return SOTTO_OK;
}

/// Largest `element_size` accepted (sotto.h): a garbage value must not send writes far away.
inline constexpr std::uint32_t kMaxElementSize = 4096;

/// The array convention of sotto.h: `*needed` = items.size(); with a big enough buffer element i
/// gets min(element_size, sizeof(T)) bytes of `convert(items[i])` at byte i * element_size (a
/// `struct_size` member set to that count). `min_size` is the element's first layout.
template <class T, class Items, class Convert>
sotto_status fill_array(T* out, std::size_t capacity, std::uint32_t element_size,
                        std::size_t* needed, const Items& items, std::size_t min_size,
                        Convert&& convert) {
    if (needed == nullptr) return null_argument();
    if (element_size < min_size || element_size > kMaxElementSize)
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "element_size: set it to sizeof the element type");
    *needed = items.size();
    if (items.empty()) return SOTTO_OK;
    if (out == nullptr || capacity < items.size())
        return fail(SOTTO_ERR_OUT_OF_RANGE, "out: capacity smaller than the number of elements");
    const std::size_t n = std::min<std::size_t>(element_size, sizeof(T));
    auto* bytes = reinterpret_cast<unsigned char*>(out);
    for (std::size_t i = 0; i < items.size(); ++i) {
        T value{};
        convert(items[i], value);
        if constexpr (requires { value.struct_size; })
            value.struct_size = static_cast<std::uint32_t>(n);
        std::memcpy(bytes + i * std::size_t{element_size}, &value, n);
    }
    return SOTTO_OK;
}

/// The first layout of each growable struct (sotto.h states them): the smallest `struct_size`
/// or `element_size` accepted. They never change once released; a struct grows past them.
namespace first_layout {
inline constexpr std::size_t kAdvertisement = 80;
inline constexpr std::size_t kDiagnosisKey = 40;
inline constexpr std::size_t kKeyfileInfo = 128;
inline constexpr std::size_t kImportResult = 152;
inline constexpr std::size_t kCheckSummary = 176;
inline constexpr std::size_t kExposureWindow = 24;
inline constexpr std::size_t kScanInstance = 12;
inline constexpr std::size_t kDailySummary = 32;
inline constexpr std::size_t kRiskDay = 32;
inline constexpr std::size_t kTracerOptions = 40;
inline constexpr std::size_t kTickReport = 12;
inline constexpr std::size_t kTracerStatus = offsetof(sotto_tracer_status, discarded);
inline constexpr std::size_t kStoreStats = offsetof(sotto_store_stats, key_publications);
inline constexpr std::size_t kUploadOptions = offsetof(sotto_upload_options, verification_server);
inline constexpr std::size_t kUploadResult = offsetof(sotto_upload_result, stage);
inline constexpr std::size_t kUpdaterOptions = 8;
inline constexpr std::size_t kUpdateSummary = offsetof(sotto_update_summary, index_lines_refused);
inline constexpr std::size_t kUpdateFile = 72;
static_assert(kTracerStatus == 136 && kStoreStats == 56 && kUploadResult == 2400 &&
              kUpdateSummary == 104);
}  // namespace first_layout

}  // namespace sotto::capi
