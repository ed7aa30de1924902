#pragma once
// Small helpers over `Statement` for the store's row-by-row reads and positional binds, so each
// query reads as its SQL and its row check.

#include <utility>
#include <vector>

#include "store/database.hpp"

namespace sotto::store::detail {

/// Binds `values` to parameters 1, 2, ... in order, each through the matching
/// `Statement::bind` overload (cast integers to std::int64_t). Stops at the first error.
template <class... V>
Result<void> bind_all(Statement& st, const V&... values) noexcept {
    Result<void> r = ok();
    int index = 0;
    const auto bind_next = [&](const auto& v) {
        if (r) r = st.bind(++index, v);
    };
    (bind_next(values), ...);
    return r;
}

/// Steps `st` to its end and collects `read(st)` (a `Result<T>`) for every row. Returns the first
/// error of a step or of `read`. May throw std::bad_alloc (callers run inside `guarded`).
template <class T, class Read>
Result<std::vector<T>> collect_rows(Statement& st, Read&& read) {
    std::vector<T> out;
    while (true) {
        auto row = st.step();
        if (!row) return row.error();
        if (!*row) return out;
        auto value = read(st);
        if (!value) return value.error();
        out.push_back(std::move(*value));
    }
}

}  // namespace sotto::store::detail
