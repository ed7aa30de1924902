// The logging hook: nothing by default, levels honoured, and no identifier at info or above
// through a whole Tracer flow.
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/log.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using test::capture;
using test::Captured;
using test::kDay0;

namespace {

// Installs the capturing sink for one test and removes it afterwards.
struct SinkGuard {
    explicit SinkGuard(Captured& c, LogLevel min = LogLevel::kDebug) {
        set_log_sink(&capture, &c, min);
    }
    ~SinkGuard() { set_log_sink(nullptr, nullptr); }
};

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    return s;
}

// The identifiers found in `text`, in lowercase hex, uppercase hex or raw bytes.
std::vector<std::string> leaks(const std::string& text,
                               const std::vector<std::vector<std::uint8_t>>& identifiers) {
    std::vector<std::string> found;
    for (const auto& id : identifiers) {
        const std::string hex = to_hex(id);
        const std::string raw(id.begin(), id.end());
        if (text.find(hex) != std::string::npos || text.find(upper(hex)) != std::string::npos ||
            text.find(raw) != std::string::npos) {
            found.push_back(hex);
            continue;
        }
        // Any 4-byte window of a longer identifier (a partial dump) counts too.
        for (std::size_t i = 0; id.size() > 4 && i + 4 <= id.size(); ++i) {
            const std::string part = to_hex(std::span(id).subspan(i, 4));
            if (text.find(part) != std::string::npos ||
                text.find(upper(part)) != std::string::npos) {
                found.push_back(part);
                break;
            }
        }
    }
    return found;
}

std::string info_and_above(Captured& c) {
    std::lock_guard l(c.mu);
    std::string all;
    for (const auto& [level, line] : c.lines)
        if (level >= LogLevel::kInfo) all += line + "\n";
    return all;
}

}  // namespace

TEST_CASE("Nothing is logged without a sink and levels below the minimum are not delivered",
          "[tracer][log]") {
    CHECK_FALSE(log_enabled(LogLevel::kError));
    write_log(LogLevel::kError, "nobody hears this");  // no sink: must not crash
    Captured c;
    {
        SinkGuard g(c, LogLevel::kWarning);
        CHECK_FALSE(log_enabled(LogLevel::kInfo));
        CHECK(log_enabled(LogLevel::kWarning));
        write_log(LogLevel::kInfo, "dropped");
        write_log(LogLevel::kWarning, "kept");
        write_log_count(LogLevel::kError, "count", 12345);
    }
    write_log(LogLevel::kError, "after removal");
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0].second == "kept");
    CHECK(c.lines[1].second == "count 12345");
    CHECK(c.lines[1].first == LogLevel::kError);
}

TEST_CASE("No TEK, RPI, AEM, address or key-file hash reaches the log at info or above",
          "[tracer][log]") {
    Captured c;
    SinkGuard g(c);
    std::vector<std::vector<std::uint8_t>> ids;
    auto add = [&](auto span) {
        std::vector<std::uint8_t> id(span.begin(), span.end());
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    };

    test::TempDir alice_dir, bob_dir;
    ManualClock clock((kDay0 + 9 * 3600) * 1000);
    keyfile::TrustStore trust;
    std::vector<std::uint8_t> zip;
    test::Air air;
    {
        auto alice = Tracer::open(alice_dir / "a.db", test::tracer_credential(1), clock);
        REQUIRE(alice);
        auto state = std::make_shared<test::FakeRadio::State>();
        REQUIRE(alice->attach_radio(std::make_unique<test::FakeRadio>(state)));
        for (int s = 0; s < 1800; s += 30) {
            auto a = alice->current_advertisement();
            REQUIRE(a);
            add(std::span(a->service_data).first(16));  // RPI
            add(std::span(a->service_data).last(4));    // AEM
            add(std::span(a->address.bytes));
            air.emplace_back(a->service_data, clock.now_ms());
            REQUIRE(alice->tick());
            clock.advance_ms(30'000);
        }
        clock.set_ms((kDay0 + 10 * 3600) * 1000);
        auto released = alice->release_own_keys(user_confirmed_upload_of_own_keys());
        REQUIRE(released);
        for (const auto& k : *released) add(k.key.tek.expose_secret());
        zip = test::publish(*released, trust, kDay0 + 10 * 3600);
        REQUIRE(alice->erase_all());
    }
    clock.set_ms((kDay0 + 12 * 3600) * 1000);  // after the released key's validity
    TracerOptions o;
    o.trust = trust;
    o.flush_count = 16;
    auto bob = Tracer::open(bob_dir / "b.db", test::tracer_credential(2), clock, std::move(o));
    REQUIRE(bob);
    for (const auto& [sd, t] : air) REQUIRE(bob->on_advertisement(sd, -50, t));
    std::vector<std::uint8_t> junk(19, 0x5A);
    CHECK_FALSE(bob->on_advertisement(junk, -50, clock.now_ms()));
    auto bad = zip;
    bad[bad.size() / 2] ^= 1;
    REQUIRE(bob->import_key_file(bad));
    auto imported = bob->import_key_file(zip);
    REQUIRE(imported);
    REQUIRE(imported->verified());
    add(std::span(imported->info->export_bin_sha256));
    auto r = bob->check();
    REQUIRE(r);
    CHECK(r->matches.size() == test::distinct_rpis(air));
    REQUIRE(bob->import_key_file(zip));  // skipped as processed
    REQUIRE(bob->check());
    REQUIRE(bob->tick());
    REQUIRE(bob->erase_all());

    const std::string text = info_and_above(c);
    CHECK(text.find("tracer: key file refused") != std::string::npos);  // the flow was logged
    CHECK(text.find("tracer: check complete") != std::string::npos);
    CHECK(ids.size() > 6);
    CHECK(leaks(text, ids).empty());

    // Negative neighbour: the scanner finds an identifier planted at info level, in either case.
    write_log(LogLevel::kInfo, "planted " + upper(to_hex(ids.back())));
    CHECK(leaks(info_and_above(c), ids).size() == 1);
    write_log(LogLevel::kInfo,
              "planted raw " + std::string(ids.front().begin(), ids.front().end()));
    CHECK(leaks(info_and_above(c), ids).size() == 2);
}
