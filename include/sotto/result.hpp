#pragma once
/// \file
/// `Result<T>`: a value or an `Error`, shaped like C++23 `std::expected<T, Error>` so that the
/// move to it is mechanical. sotto never throws across its public API.

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include <sotto/error.hpp>

namespace sotto {

/// Wraps an error for returning from a function that returns `Result<T>`.
template <class E>
struct Unexpected {
    E error;
};

/// `return make_error(ErrorCode::kInvalidArgument, "tek: expected 32 hex characters");`
/// `what` must be a string literal.
inline Unexpected<Error> make_error(ErrorCode code, const char* what) noexcept {
    return {Error{code, what}};
}

/// A value of type `T` or an `Error`. Check `has_value()` (or `operator bool`) before `value()`.
template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

public:
    using value_type = T;

    Result(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT(google-explicit-constructor)
    Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}           // NOLINT
    Result(Unexpected<Error> u) : v_(std::in_place_index<1>, u.error) {}  // NOLINT
    Result(Error e) : v_(std::in_place_index<1>, e) {}                    // NOLINT
    template <class U,
              class = std::enable_if_t<
                  std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Result> &&
                  !std::is_same_v<std::decay_t<U>, T> && !std::is_same_v<std::decay_t<U>, Error>>>
    Result(U&& u) : v_(std::in_place_index<0>, std::forward<U>(u)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        assert(has_value());
        return *std::get_if<0>(&v_);
    }
    const T& value() const& {
        assert(has_value());
        return *std::get_if<0>(&v_);
    }
    T&& value() && {
        assert(has_value());
        return std::move(*std::get_if<0>(&v_));
    }
    const Error& error() const& {
        assert(!has_value());
        return *std::get_if<1>(&v_);
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> v_;
};

/// `Result<void>`: success or an `Error`.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;

    Result() noexcept = default;
    Result(Unexpected<Error> u) noexcept : ok_(false), e_(u.error) {}  // NOLINT
    Result(Error e) noexcept : ok_(false), e_(e) {}                    // NOLINT

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const noexcept { assert(ok_); }
    const Error& error() const& noexcept {
        assert(!ok_);
        return e_;
    }

private:
    bool ok_ = true;
    Error e_{};
};

/// The success value of `Result<void>`: `return ok();`.
inline Result<void> ok() noexcept { return {}; }

}  // namespace sotto
