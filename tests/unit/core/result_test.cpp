#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/result.hpp>

#include "support.hpp"

using sotto::ErrorCode;
using sotto::Result;

namespace {
Result<int> parse_positive(int v) {
    if (v <= 0) return sotto::make_error(ErrorCode::kOutOfRange, "not positive");
    return v;
}
Result<void> check(bool good) {
    if (!good) return sotto::make_error(ErrorCode::kInvalidArgument, "bad");
    return sotto::ok();
}
}  // namespace

TEST_CASE("Result carries a value or an error", "[core][result]") {
    auto good = parse_positive(7);
    REQUIRE(good.has_value());
    CHECK(*good == 7);
    CHECK(good.value_or(0) == 7);

    auto bad = parse_positive(-1);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == ErrorCode::kOutOfRange);
    CHECK(std::string(bad.error().what) == "not positive");
    CHECK(bad.value_or(42) == 42);
}

TEST_CASE("Result<void> reports success and failure", "[core][result]") {
    CHECK(check(true).has_value());
    auto r = check(false);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("Result holds move-only values", "[core][result]") {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    REQUIRE(r);
    std::unique_ptr<int> p = std::move(r).value();
    CHECK(*p == 5);
}

TEST_CASE("Error codes have stable numbers and names", "[core][result]") {
    CHECK(static_cast<int>(ErrorCode::kStorageWrongKey) == 302);
    CHECK(static_cast<int>(ErrorCode::kKeyFileMalformed) == 500);
    CHECK(std::string(sotto::error_code_name(ErrorCode::kStorageWrongKey)) == "kStorageWrongKey");
    CHECK(std::string(sotto::error_code_name(static_cast<ErrorCode>(12345))) == "kUnknown");
}
