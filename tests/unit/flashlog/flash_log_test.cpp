// The encrypted flash log on a simulated NOR flash: round trips, NOR rules, tampering, replay,
// retention, forget-me, capacity, and a power cut at every erase/program step of a scripted day.
#include <algorithm>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/rng.hpp>
#include <sotto/flashlog/export_reader.hpp>
#include <sotto/flashlog/flash_log.hpp>

using namespace sotto::flashlog;
using sotto::ErrorCode;
namespace core = sotto::core;

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kPages = 64;  // 256 KiB
constexpr std::uint32_t kDay = 20000;
const std::uint8_t kDeviceKey[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

struct Chip {
    std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(kPage * kPages, 0xff);
    SimFlash flash{mem, kPage};
};

HeardRow row(std::uint32_t n) {
    HeardRow r;
    r.interval = static_cast<std::uint8_t>(n % 144);
    for (std::size_t i = 0; i < 16; ++i) r.rpi.bytes[i] = static_cast<std::uint8_t>(n * 31 + i);
    for (std::size_t i = 0; i < 4; ++i) r.aem.bytes[i] = static_cast<std::uint8_t>(n ^ (i * 77));
    r.rssi_max = static_cast<std::int8_t>(-40 - static_cast<int>(n % 50));
    r.rssi_mean = static_cast<std::int8_t>(r.rssi_max - 5);
    r.count = static_cast<std::uint8_t>(1 + n % 200);
    return r;
}

core::ExposureKey tek(std::uint32_t day, std::uint8_t fill) {
    core::ExposureKey k;
    k.rolling_start = day * 144;
    for (auto& b : k.tek.expose_secret_mut()) b = fill;
    return k;
}

struct Collect final : LogVisitor {
    std::vector<std::pair<std::uint32_t, HeardRow>> rows;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> teks;  // rolling start, first byte
    bool on_tek(const core::ExposureKey& k) noexcept override {
        teks.emplace_back(k.rolling_start, k.tek.expose_secret()[0]);
        return true;
    }
    bool on_rows(std::uint32_t day, std::span<const HeardRow> r) noexcept override {
        for (const auto& x : r) rows.emplace_back(day, x);
        return true;
    }
};

Collect read_all(FlashLog& log) {
    Collect c;
    REQUIRE(log.visit(c));
    return c;
}

FlashLog open_log(SimFlash& f, core::Rng& rng) {
    auto log = FlashLog::open(f, kDeviceKey, rng);
    REQUIRE(log);
    return std::move(*log);
}

}  // namespace

TEST_CASE("SimFlash enforces NOR rules", "[flashlog]") {
    Chip c;
    const std::uint8_t a[4] = {0x0f, 0xff, 0x00, 0xf0};
    REQUIRE(c.flash.program(0, a));
    const std::uint8_t clear_more[4] = {0x0e, 0x7f, 0x00, 0x00};
    CHECK(c.flash.program(0, clear_more));  // only clears bits: fine
    const std::uint8_t set_bit[4] = {0x1e, 0x7f, 0x00, 0x00};
    CHECK_FALSE(c.flash.program(0, set_bit));  // 0 -> 1 is impossible without an erase
    CHECK(c.mem[0] == 0x0e);
    CHECK_FALSE(c.flash.program(2, a));  // unaligned
    REQUIRE(c.flash.erase(0));
    CHECK(c.mem[0] == 0xff);
    c.flash.cut_power_after(0);
    CHECK_FALSE(c.flash.program(0, a));
    CHECK_FALSE(c.flash.read(0, std::span(c.mem.data(), 4)));  // dead until power returns
    c.flash.power_on();
    std::uint8_t out[4];
    CHECK(c.flash.read(0, out));
}

TEST_CASE("flash log round trip, reopen, and nothing readable in the raw flash", "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(1);
    {
        auto log = open_log(c.flash, rng);
        REQUIRE(log.put_tek(tek(kDay, 0xaa)));
        std::vector<HeardRow> rows;
        for (std::uint32_t i = 0; i < 400; ++i) rows.push_back(row(i));  // spans pages
        REQUIRE(log.append(kDay, rows));
        REQUIRE(log.put_tek(tek(kDay + 1, 0xbb)));
        REQUIRE(log.append(kDay + 1, std::span(rows).first(3)));
        CHECK(log.rows_per_page() == 168);
        CHECK_FALSE(log.append(kDay, std::span(rows).first(1)));  // the past is closed
    }
    auto log = open_log(c.flash, rng);
    const auto got = read_all(log);
    REQUIRE(got.rows.size() == 403);
    for (std::uint32_t i = 0; i < 400; ++i)
        CHECK((got.rows[i].first == kDay && got.rows[i].second == row(i)));
    CHECK(got.rows[400].first == kDay + 1);
    REQUIRE(got.teks.size() == 2);
    CHECK((got.teks[0].first == kDay * 144 && got.teks[0].second == 0xaa));
    // Neither the TEK nor an RPI appears in clear anywhere on the chip.
    const HeardRow r7 = row(7);
    auto found = [&](const std::uint8_t* p, std::size_t n) {
        return std::search(c.mem.begin(), c.mem.end(), p, p + n) != c.mem.end();
    };
    CHECK_FALSE(found(r7.rpi.bytes.data(), 16));
    const std::uint8_t aa[16] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    CHECK_FALSE(found(aa, 16));
    // Another device key opens nothing (a fresh log) and wipes the unreadable pages.
    const std::uint8_t other[32] = {9};
    auto stranger = FlashLog::open(c.flash, other, rng);
    REQUIRE(stranger);
    auto s = stranger->stats();
    REQUIRE(s);
    CHECK(s->rows == 0);
}

TEST_CASE("flash log: a changed byte ends its page, never yields altered data", "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(2);
    {
        auto log = open_log(c.flash, rng);
        std::vector<HeardRow> rows;
        for (std::uint32_t i = 0; i < 20; ++i) rows.push_back(row(i));
        for (std::size_t k = 0; k < 5; ++k)
            REQUIRE(log.append(kDay, std::span(rows).subspan(4 * k, 4)));
    }
    // Page 2 is the first log page; its third record starts at 40 + 2 * (4 + 96 + 16).
    c.mem[2 * kPage + 40 + 2 * 116 + 30] ^= 0x01;
    auto log = open_log(c.flash, rng);
    const auto got = read_all(log);
    REQUIRE(got.rows.size() == 8);  // two records before the damage
    for (std::uint32_t i = 0; i < 8; ++i) CHECK(got.rows[i].second == row(i));
    // The log stays usable: new rows go to a new page.
    REQUIRE(log.append(kDay, std::span<const HeardRow>(std::vector<HeardRow>{row(99)})));
    CHECK(read_all(log).rows.size() == 9);
}

TEST_CASE("flash log retention drops whole days, and an erased page replayed stays dead",
          "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(3);
    auto log = open_log(c.flash, rng);
    for (std::uint32_t d = 0; d < 16; ++d) {
        REQUIRE(log.put_tek(tek(kDay + d, static_cast<std::uint8_t>(d))));
        REQUIRE(log.append(kDay + d, std::span<const HeardRow>(std::vector<HeardRow>{row(d)})));
    }
    const std::vector<std::uint8_t> before = c.mem;  // day kDay's page still there
    REQUIRE(log.apply_retention(kDay + 15));         // keeps kDay+2 .. kDay+15
    auto got = read_all(log);
    REQUIRE(got.teks.size() == 14);
    CHECK(got.teks.front().first == (kDay + 2) * 144);
    CHECK(got.rows.front().first == kDay + 2);
    // An attacker writes the old pages back: the authenticated floor keeps them out.
    std::memcpy(c.mem.data() + 2 * kPage, before.data() + 2 * kPage, 2 * kPage);
    auto reopened = open_log(c.flash, rng);
    got = read_all(reopened);
    CHECK(got.teks.size() == 14);
    CHECK(got.rows.front().first == kDay + 2);
}

TEST_CASE("flash log forget-me shreds the key, then erases, and the pairing survives",
          "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(4);
    auto log = open_log(c.flash, rng);
    const std::uint8_t pk[32] = {7};
    REQUIRE(log.pair(pk));
    REQUIRE(log.put_tek(tek(kDay, 0x11)));
    REQUIRE(log.append(kDay, std::span<const HeardRow>(std::vector<HeardRow>{row(1), row(2)})));
    const std::vector<std::uint8_t> before = c.mem;
    REQUIRE(log.forget());
    CHECK(read_all(log).rows.empty());
    // Write the old data pages back (an attacker who dumped the chip): the new key cannot open
    // them, and the old key record is gone.
    std::memcpy(c.mem.data() + 2 * kPage, before.data() + 2 * kPage, 62 * kPage);
    auto reopened = open_log(c.flash, rng);
    auto s = reopened.stats();
    REQUIRE(s);
    CHECK(s->rows == 0);
    CHECK(s->paired);
}

TEST_CASE("flash log capacity: 14 days of a busy commuter in 256 KiB", "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(5);
    auto log = open_log(c.flash, rng);
    // 14 days, each filling its share of the 62 log pages (4 pages a day) with the day's TEK and
    // rows appended in batches of 24 (one write per 10-minute interval): 640 rows a day.
    const std::size_t per_day = 640;
    std::vector<HeardRow> rows;
    for (std::uint32_t i = 0; i < per_day; ++i) rows.push_back(row(i));
    for (std::uint32_t d = 0; d < 14; ++d) {
        REQUIRE(log.put_tek(tek(kDay + d, 1)));
        for (std::size_t i = 0; i < rows.size(); i += 24)  // one append per interval
            REQUIRE(log.append(
                kDay + d, std::span(rows).subspan(i, std::min<std::size_t>(24, rows.size() - i))));
    }
    auto s = log.stats();
    REQUIRE(s);
    CHECK(s->dropped_pages == 0);
    CHECK(s->rows == 14 * per_day);
    CHECK(s->teks == 14);
    WARN("capacity: " << s->rows << " rows (" << per_day << " a day) + 14 TEKs in " << s->live_pages
                      << " of " << s->pages << " pages of 4 KiB");
    // Two more such days (retention not run) overwrite the oldest pages rather than failing.
    for (std::uint32_t d = 14; d < 16; ++d) {
        REQUIRE(log.put_tek(tek(kDay + d, 1)));
        REQUIRE(log.append(kDay + d, rows));
    }
    s = log.stats();
    REQUIRE(s);
    CHECK(s->dropped_pages > 0);
}

TEST_CASE("token export: authenticated, encrypted, refused when altered", "[flashlog]") {
    Chip c;
    core::DeterministicRng rng(6);
    auto log = open_log(c.flash, rng);
    std::vector<std::uint8_t> out;
    auto sink = [](void* ctx, const std::uint8_t* p, std::size_t n) {
        auto* v = static_cast<std::vector<std::uint8_t>*>(ctx);
        v->insert(v->end(), p, p + n);
        return true;
    };
    CHECK(log.export_to(sink, &out).error().code == ErrorCode::kFailedPrecondition);  // unpaired
    const std::uint8_t pk[32] = {42, 1, 2};
    REQUIRE(log.pair(pk));
    REQUIRE(log.put_tek(tek(kDay, 0x5a)));
    std::vector<HeardRow> rows;
    for (std::uint32_t i = 0; i < 10; ++i) rows.push_back(row(i));
    REQUIRE(log.append(kDay, rows));
    REQUIRE(log.export_to(sink, &out));
    auto e = read_export(out, pk);
    REQUIRE(e);
    CHECK(e->sequence == 1);
    REQUIRE(e->rows.size() == 10);
    CHECK(e->rows[9].row == row(9));
    REQUIRE(e->teks.size() == 1);
    CHECK(e->teks[0].tek.expose_secret()[0] == 0x5a);
    // Every single flipped byte, a wrong key, a cut, an appended byte: refused.
    const std::uint8_t wrong[32] = {43};
    CHECK(read_export(out, wrong).error().code == ErrorCode::kAuthenticationFailed);
    for (std::size_t i = 8; i < out.size(); i += 7) {
        auto bad = out;
        bad[i] ^= 0x20;
        auto r = read_export(bad, pk);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::kAuthenticationFailed);
    }
    auto cut = out;
    cut.resize(cut.size() - 1);
    CHECK_FALSE(read_export(cut, pk));
    auto longer = out;
    longer.push_back(0);
    CHECK_FALSE(read_export(longer, pk));
    CHECK(read_export(std::span(out).first(10), pk).error().code == ErrorCode::kInvalidArgument);
    // The next export carries the next sequence number, also after a reboot.
    std::vector<std::uint8_t> second;
    auto again = open_log(c.flash, rng);
    REQUIRE(again.export_to(sink, &second));
    auto e2 = read_export(second, pk);
    REQUIRE(e2);
    CHECK(e2->sequence == 2);
    CHECK(e2->token_id == e->token_id);
}

// ---- Power cut at every step --------------------------------------------------------------

namespace {

// A scripted day: the TEK at midnight, a batch of rows most intervals, midnight again with the
// next TEK and retention. Returns how far it got; `committed` collects what returned success.
struct Event {
    int kind;  // 0 tek, 1 rows, 2 retention
    std::uint32_t day;
    std::vector<HeardRow> rows;
};

std::vector<Event> scripted_day() {
    std::vector<Event> ev;
    ev.push_back({0, kDay, {}});
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < 144; i += 3) {
        Event e{1, kDay, {}};
        const std::uint32_t k = (i * 7) % 11;  // 0..10 rows: a commute's peaks and quiet hours
        for (std::uint32_t j = 0; j < k; ++j) {
            HeardRow r = row(n++);
            r.interval = static_cast<std::uint8_t>(i);
            e.rows.push_back(r);
        }
        if (!e.rows.empty()) ev.push_back(std::move(e));
    }
    ev.push_back({0, kDay + 1, {}});
    ev.push_back({2, kDay + 1, {}});
    ev.push_back({1, kDay + 1, {row(9999)}});
    return ev;
}

sotto::Result<void> run(FlashLog& log, const Event& e) {
    if (e.kind == 0) return log.put_tek(tek(e.day, static_cast<std::uint8_t>(e.day)));
    if (e.kind == 1) return log.append(e.day, e.rows);
    return log.apply_retention(e.day);
}

}  // namespace

TEST_CASE("flash log survives a power cut at every erase and program step of a day",
          "[flashlog][powercut]") {
    const auto events = scripted_day();
    // A dry run counts the steps. The chip starts with 13 earlier days, the first near expiry.
    Chip base;
    core::DeterministicRng seed_rng(7);
    {
        auto log = open_log(base.flash, seed_rng);
        for (std::uint32_t d = 13; d >= 1; --d) {
            REQUIRE(log.put_tek(tek(kDay - d, static_cast<std::uint8_t>(kDay - d))));
            REQUIRE(log.append(kDay - d, std::span<const HeardRow>(std::vector<HeardRow>{row(d)})));
        }
    }
    std::uint64_t total = 0;
    {
        Chip c;
        c.mem = base.mem;
        core::DeterministicRng rng(8);
        auto log = open_log(c.flash, rng);
        const auto start = c.flash.steps();
        for (const auto& e : events) REQUIRE(run(log, e));
        total = c.flash.steps() - start;
    }
    REQUIRE(total > 40);
    std::size_t cuts = 0;
    for (std::uint64_t cut = 0; cut < total; ++cut) {
        Chip c;
        c.mem = base.mem;
        core::DeterministicRng rng(8);
        std::vector<std::pair<std::uint32_t, HeardRow>> committed;
        std::vector<std::uint32_t> teks;
        std::size_t next = 0;
        std::vector<HeardRow> in_flight;
        {
            auto log = open_log(c.flash, rng);
            for (auto& [d, r] : read_all(log).rows) committed.emplace_back(d, r);
            for (auto& [s, b] : read_all(log).teks) teks.push_back(s);
            c.flash.cut_power_after(cut);
            for (; next < events.size(); ++next) {
                const Event& e = events[next];
                if (!run(log, e)) {
                    if (e.kind == 1) in_flight = e.rows;
                    break;
                }
                if (e.kind == 0) teks.push_back(e.day * 144);
                if (e.kind == 1)
                    for (const auto& r : e.rows) committed.emplace_back(e.day, r);
                if (e.kind == 2) {  // what retention dropped is no longer expected
                    const std::uint32_t first = e.day - 13;
                    std::erase_if(committed, [&](const auto& x) { return x.first < first; });
                    std::erase_if(teks, [&](std::uint32_t s) { return s / 144 < first; });
                }
            }
        }
        REQUIRE_FALSE(c.flash.powered());  // the cut happened inside the script
        ++cuts;
        // Power returns, and is cut again during the recovery itself (open's clean-up erases).
        c.flash.power_on();
        c.flash.cut_power_after(cut % 3);
        (void)FlashLog::open(c.flash, kDeviceKey, rng);
        c.flash.power_on();
        auto reopened = FlashLog::open(c.flash, kDeviceKey, rng);
        INFO("cut at step " << cut << " during event " << next);
        REQUIRE(reopened);
        const auto got = read_all(*reopened);
        // Every committed row, in order, then at most a prefix of the interrupted batch. Rows the
        // interrupted retention was dropping may be gone or still there.
        std::size_t gi = 0;
        for (const auto& x : committed) {
            while (gi < got.rows.size() && events[next].kind == 2 && got.rows[gi] != x &&
                   got.rows[gi].first < events[next].day - 13)
                ++gi;
            if (events[next].kind == 2 && x.first < events[next].day - 13 &&
                (gi >= got.rows.size() || got.rows[gi] != x))
                continue;
            REQUIRE(gi < got.rows.size());
            REQUIRE(got.rows[gi] == x);
            ++gi;
        }
        const std::size_t extra = got.rows.size() - gi;
        REQUIRE(extra <= in_flight.size());
        for (std::size_t k = 0; k < extra; ++k) CHECK(got.rows[gi + k].second == in_flight[k]);
        for (std::uint32_t s : teks)
            if (events[next].kind != 2 || s / 144 >= events[next].day - 13)
                CHECK(std::count_if(got.teks.begin(), got.teks.end(),
                                    [&](const auto& t) { return t.first == s; }) == 1);
        // And the log carries on: finish the day and find it all.
        for (std::size_t k = next; k < events.size(); ++k) REQUIRE(run(*reopened, events[k]));
        const auto after = read_all(*reopened);
        CHECK(after.rows.back().second == row(9999));
        CHECK(after.teks.back().first == (kDay + 1) * 144);
    }
    WARN("power cut at each of " << cuts << " erase/program steps of the scripted day");
}

TEST_CASE("flash log forget-me: a power cut at any step leaves all or nothing readable",
          "[flashlog][powercut]") {
    Chip base;
    core::DeterministicRng seed_rng(9);
    const std::uint8_t pk[32] = {3};
    {
        auto log = open_log(base.flash, seed_rng);
        REQUIRE(log.pair(pk));
        for (std::uint32_t d = 0; d < 5; ++d) {
            REQUIRE(log.put_tek(tek(kDay + d, 1)));
            std::vector<HeardRow> rows;
            for (std::uint32_t i = 0; i < 200; ++i) rows.push_back(row(d * 1000 + i));
            REQUIRE(log.append(kDay + d, rows));
        }
    }
    std::uint64_t total = 0;
    {
        Chip c;
        c.mem = base.mem;
        core::DeterministicRng rng(10);
        auto log = open_log(c.flash, rng);
        const auto start = c.flash.steps();
        REQUIRE(log.forget());
        total = c.flash.steps() - start;
    }
    REQUIRE(total > 10);
    for (std::uint64_t cut = 0; cut < total; ++cut) {
        Chip c;
        c.mem = base.mem;
        core::DeterministicRng rng(10);
        {
            auto log = open_log(c.flash, rng);
            c.flash.cut_power_after(cut);
            REQUIRE_FALSE(log.forget());
        }
        c.flash.power_on();
        auto reopened = open_log(c.flash, rng);
        auto s = reopened.stats();
        REQUIRE(s);
        INFO("cut at step " << cut);
        CHECK((s->rows == 0 || s->rows == 1000));  // nothing, or all of it (forget not begun)
        CHECK((s->teks == 0 || s->teks == 5));
        CHECK(s->paired);
        if (s->rows == 1000) {  // the user asks again; this time it completes
            REQUIRE(reopened.forget());
            CHECK(reopened.stats()->rows == 0);
        }
    }
}

namespace {

// Counts erases per page on top of a SimFlash.
class CountingFlash final : public FlashDevice {
public:
    explicit CountingFlash(SimFlash& f) : f_(f), erases_(f.page_count(), 0) {}
    std::size_t page_size() const noexcept override { return f_.page_size(); }
    std::size_t page_count() const noexcept override { return f_.page_count(); }
    bool erase(std::size_t p) noexcept override {
        ++erases_[p];
        return f_.erase(p);
    }
    bool program(std::size_t a, std::span<const std::uint8_t> d) noexcept override {
        return f_.program(a, d);
    }
    bool read(std::size_t a, std::span<std::uint8_t> o) noexcept override { return f_.read(a, o); }
    const std::vector<std::uint32_t>& erases() const { return erases_; }

private:
    SimFlash& f_;
    std::vector<std::uint32_t> erases_;
};

}  // namespace

TEST_CASE("flash log wear: a year of days spreads erases evenly over the ring", "[flashlog]") {
    Chip c;
    CountingFlash counting(c.flash);
    core::DeterministicRng rng(12);
    auto opened = FlashLog::open(counting, kDeviceKey, rng);
    REQUIRE(opened);
    auto& log = *opened;
    std::vector<HeardRow> rows;
    for (std::uint32_t i = 0; i < 300; ++i) rows.push_back(row(i));
    for (std::uint32_t d = 0; d < 365; ++d) {
        REQUIRE(log.put_tek(tek(kDay + d, 1)));
        REQUIRE(log.append(kDay + d, std::span(rows).first(100 + (d * 37) % 200)));
        REQUIRE(log.apply_retention(kDay + d));
    }
    const auto& e = counting.erases();
    const auto [lo, hi] = std::minmax_element(e.begin() + kKeyPages, e.end());
    WARN("log page erases after a year: " << *lo << ".." << *hi);
    CHECK(*hi - *lo <= 1);  // a ring: every page takes its turn
    CHECK(*hi < 20);        // NOR flash endures 10,000+ erases per page: centuries at this rate
    auto s = log.stats();
    REQUIRE(s);
    CHECK(s->teks == 14);
    CHECK(s->dropped_pages == 0);
}
