// The persisted fetch state: round trip, damage detection, atomic replacement.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/fetch/fetch_state.hpp>

#include "support.hpp"

using namespace sotto;
using namespace sotto::fetch;

namespace {

FetchStateData sample() {
    FetchStateData d;
    d.index_etag = "\"abc def\"";
    d.index_last_modified = "Thu, 04 Mar 2021 00:00:00 GMT";
    d.index_entries = {"a/1.zip", "a/2.zip"};
    FileRecord r;
    r.path = "a/1.zip";
    r.sha256.fill(0x11);
    r.bytes = 1234;
    r.etag = "W/\"x\"";
    r.used = true;
    d.files.push_back(r);
    r.path = "a/2.zip";
    r.sha256.fill(0x22);
    r.etag.clear();
    r.last_modified = "Fri, 05 Mar 2021 00:00:00 GMT";
    r.used = false;
    d.files.push_back(r);
    d.retired_used.push_back({});
    d.retired_used.back().fill(0x33);
    return d;
}

}  // namespace

TEST_CASE("The fetch state survives a save and a load unchanged", "[fetch][state]") {
    test::TempDir dir;
    FileFetchState st(dir / "fetch.state");
    auto empty = st.load();
    REQUIRE(empty);
    CHECK_FALSE(empty->damaged);
    CHECK(empty->data.files.empty());

    REQUIRE(st.save(sample()));
    auto back = st.load();
    REQUIRE(back);
    CHECK_FALSE(back->damaged);
    const auto& d = back->data;
    CHECK(d.index_etag == "\"abc def\"");
    CHECK(d.index_last_modified == "Thu, 04 Mar 2021 00:00:00 GMT");
    CHECK(d.index_entries == std::vector<std::string>{"a/1.zip", "a/2.zip"});
    REQUIRE(d.files.size() == 2);
    CHECK(d.files[0].used);
    CHECK(d.files[0].etag == "W/\"x\"");
    CHECK(d.files[0].bytes == 1234);
    CHECK(d.files[1].sha256[31] == 0x22);
    CHECK_FALSE(d.files[1].used);
    CHECK(d.files[1].last_modified == "Fri, 05 Mar 2021 00:00:00 GMT");
    REQUIRE(d.retired_used.size() == 1);
    CHECK(d.retired_used[0][0] == 0x33);

    // Only the state file is left: no temporary files.
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n;
    CHECK(n == 1);
}

TEST_CASE("Every flipped byte of the state file is detected as damage", "[fetch][state]") {
    auto text = encode_state(sample());
    REQUIRE(text);
    REQUIRE(decode_state(*text));
    for (std::size_t i = 0; i < text->size(); ++i) {
        std::string bad = *text;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        CAPTURE(i);
        auto d = decode_state(bad);
        REQUIRE_FALSE(d);
        CHECK(d.error().code == ErrorCode::kStorageCorrupt);
    }
    // Truncation at any point, too.
    for (std::size_t len = 0; len < text->size(); len += 7) {
        CHECK_FALSE(decode_state(std::string_view(*text).substr(0, len)));
    }
}

TEST_CASE("A damaged state file is reported and replaced on the next save", "[fetch][state]") {
    test::TempDir dir;
    FileFetchState st(dir / "fetch.state");
    REQUIRE(st.save(sample()));
    auto bytes = test::read_text(dir / "fetch.state");
    bytes[bytes.size() / 2] = 'Z';
    test::write_text(dir / "fetch.state", bytes);

    auto loaded = st.load();
    REQUIRE(loaded);
    CHECK(loaded->damaged);
    CHECK(loaded->data.files.empty());
    CHECK(loaded->data.index_entries.empty());

    REQUIRE(st.save(loaded->data));
    auto again = st.load();
    REQUIRE(again);
    CHECK_FALSE(again->damaged);

    test::write_text(dir / "fetch.state", "garbage");
    auto garbage = st.load();
    REQUIRE(garbage);
    CHECK(garbage->damaged);
}

TEST_CASE("A hostile path is never written to the state", "[fetch][state]") {
    auto d = sample();
    d.files[0].path = "../../etc/x.zip";
    auto text = encode_state(d);
    REQUIRE_FALSE(text);
    CHECK(text.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("A state file in a missing directory cannot be saved and says so", "[fetch][state]") {
    test::TempDir dir;
    FileFetchState st(dir / "missing" / "fetch.state");
    auto r = st.save(sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kStorageIo);
}

TEST_CASE("A refused file survives a save and a load and an unknown flag is damage",
          "[fetch][state]") {
    test::TempDir dir;
    FileFetchState st(dir / "fetch.state");
    FetchStateData data = sample();
    data.files[1].refused = true;
    REQUIRE(st.save(data));
    auto back = st.load();
    REQUIRE(back);
    CHECK_FALSE(back->damaged);
    REQUIRE(back->data.files.size() == 2);
    CHECK_FALSE(back->data.files[0].refused);
    CHECK(back->data.files[1].refused);
    CHECK_FALSE(back->data.files[1].used);
    // The neighbour: a flag other than 0, 1 or 2 (checksum recomputed) is refused as damage.
    auto text = encode_state(data);
    REQUIRE(text);
    const auto at = text->find(" 2\n");
    REQUIRE(at != std::string::npos);
    std::string bad = text->substr(0, at) + " 3\n";
    const std::string rest = text->substr(at + 3);
    bad += rest.substr(0, rest.rfind("sha256 "));
    CHECK_FALSE(decode_state(bad + "sha256 0\n"));
}
