#include "core/sodium_init.hpp"

#include <sodium.h>

#include <mutex>

namespace sotto::detail {

Result<void> init_sodium() noexcept {
    static std::once_flag once;
    static int rc = -1;
    std::call_once(once, [] { rc = sodium_init(); });  // 1 = already initialized: fine
    if (rc < 0) return make_error(ErrorCode::kCryptoFailure, "libsodium failed to initialize");
    return {};
}

}  // namespace sotto::detail
