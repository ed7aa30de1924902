// The demo is the main job: it must keep telling the right story. The outcomes are asserted from
// its summary lines (what each phone concluded), not from the prose.
#include <catch2/catch.hpp>

#include <chrono>
#include <regex>

#include "support.hpp"

namespace {
struct Outcome {
    std::string risk;
    int windows = -1, suspect = -1, refused = -1, used = -1;
};

Outcome outcome(const std::string& out, const std::string& name) {
    const std::regex line(
        "  " + name +
        R"(: risk (HIGH|LOW|NONE), (\d+) exposure window\(s\), (\d+) suspect beacon\(s\), (\d+) file\(s\) refused, (\d+) used)");
    std::smatch m;
    Outcome o;
    if (std::regex_search(out, m, line)) {
        o.risk = m[1];
        o.windows = std::stoi(m[2]);
        o.suspect = std::stoi(m[3]);
        o.refused = std::stoi(m[4]);
        o.used = std::stoi(m[5]);
    }
    return o;
}
}  // namespace

TEST_CASE("The demo tells the whole story in under a minute and draws the timeline",
          "[cli][demo]") {
    sotto::test::TempDir out;
    const auto kept = out.path() / "phones";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = sotto::test::run_process(
        {SOTTO_DEMO_PATH, "--out", out.path().string(), "--keep", kept.string()});
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    CAPTURE(r.out, r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(elapsed < std::chrono::seconds(60));
    CHECK(r.out.find("Bob.db as a thief sees it: SQLite header absent") != std::string::npos);

    // Bob sat next to Alice on the tram and worked near her: high risk, nothing suspect.
    const auto bob = outcome(r.out, "Bob");
    CHECK(bob.risk == "HIGH");
    CHECK(bob.windows > 0);
    CHECK(bob.suspect == 0);
    // Carol served Alice a coffee: an exposure, but a short and distant one.
    const auto carol = outcome(r.out, "Carol");
    CHECK(carol.risk == "LOW");
    CHECK(carol.windows > 0);
    CHECK(carol.suspect == 0);
    // Dave never met Alice; the relay's replays near him are suspect and count for nothing.
    const auto dave = outcome(r.out, "Dave");
    CHECK(dave.risk == "NONE");  // docs/risk.md: no day with a risk level
    CHECK(dave.windows == 0);
    CHECK(dave.suspect > 0);
    // Dave's relayed packets: counted as packets (the RPIs beside them), over a range that runs
    // forwards (earliest to latest, not first to last match).
    {
        const std::regex relayed(
            R"(  (\d+) packets \((\d+) RPIs\) of Alice's key, heard \w+ (\d+) Nov (\d\d):(\d\d) - \w+ (\d+) Nov (\d\d):(\d\d))");
        std::smatch m;
        REQUIRE(std::regex_search(r.out, m, relayed));
        const int packets = std::stoi(m[1]), rpis = std::stoi(m[2]);
        CHECK(rpis == dave.suspect);
        CHECK(packets > rpis);  // the relay replays every packet it caught, several per RPI
        const auto minute = [&](std::size_t i) {
            return std::stoi(m[i]) * 1440 + std::stoi(m[i + 1]) * 60 + std::stoi(m[i + 2]);
        };
        CHECK(minute(3) <= minute(6));
    }
    // Everyone downloaded both files from the bucket, used the signed one and refused the forgery.
    for (const auto& o : {bob, carol, dave}) {
        CHECK(o.used == 1);
        CHECK(o.refused == 1);
    }

    const auto svg_path = out.path() / "timeline.svg";
    REQUIRE(std::filesystem::exists(svg_path));
    const std::string svg = sotto::test::read_text(svg_path);
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    for (const char* name : {"Alice", "Bob", "Carol", "Dave"})
        CHECK(svg.find(name) != std::string::npos);
    CHECK(svg.find("relayed beacon of the positive key") !=
          std::string::npos);  // Dave's fakes marked
    CHECK(svg.find("exposure found") != std::string::npos);
    CHECK(r.out.find(svg_path.string()) != std::string::npos);  // it says where the timeline is

    // What the phones kept (--keep): every file was marked used or refused, so no download is
    // left pending in a spool (the forged file was refused, not left to be offered again).
    std::size_t spools = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kept)) {
        if (!e.is_directory() || e.path().filename() != "spool") continue;
        ++spools;
        CAPTURE(e.path());
        CHECK(std::filesystem::is_empty(e.path()));
    }
    CHECK(spools == 3);  // Bob, Carol and Dave downloaded
    for (const auto& e : std::filesystem::recursive_directory_iterator(kept))
        CHECK(e.path().extension() != ".zip");
}

TEST_CASE("The demo tells the same story on every run", "[cli][demo]") {
    // The phones' TEKs, addresses and scan phases are seeded, so a borderline encounter (Carol's
    // coffee) cannot flip between runs. The neighbour: the store directory differs every run.
    sotto::test::TempDir a, b;
    auto first = sotto::test::run_process({SOTTO_DEMO_PATH, "--out", a.path().string()});
    auto second = sotto::test::run_process({SOTTO_DEMO_PATH, "--out", b.path().string()});
    REQUIRE(first.exit_code == 0);
    REQUIRE(second.exit_code == 0);
    const std::regex story(R"((  exposure on [^\n]*|  (Bob|Carol|Dave): risk [^\n]*))");
    auto lines = [&](const std::string& out) {
        std::vector<std::string> v;
        for (auto it = std::sregex_iterator(out.begin(), out.end(), story);
             it != std::sregex_iterator(); ++it)
            v.push_back(it->str());
        return v;
    };
    const auto l1 = lines(first.out);
    CAPTURE(first.out, second.out);
    CHECK(l1.size() == 6);
    CHECK(l1 == lines(second.out));
    const std::regex store_dir(R"(its own encrypted store in ([^\n]+))");
    std::smatch m1, m2;
    REQUIRE(std::regex_search(first.out, m1, store_dir));
    REQUIRE(std::regex_search(second.out, m2, store_dir));
    CHECK(m1[1].str() != m2[1].str());
}
