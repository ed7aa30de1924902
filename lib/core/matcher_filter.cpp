#include "matcher_filter.hpp"

namespace sotto::core::detail {

std::size_t filter_candidates_scalar(const std::uint64_t* filter, unsigned shift,
                                     const RollingProximityId* rpis, std::size_t n,
                                     std::uint16_t* out) noexcept {
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i) {
        out[c] = static_cast<std::uint16_t>(i);
        c += filter_passes(filter, shift, load64(rpis[i].bytes.data()));  // branchless: rare
    }
    return c;
}

}  // namespace sotto::core::detail
