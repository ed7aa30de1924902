#include <catch2/catch.hpp>

#include "support.hpp"

using sotto::test::cli_path;
using sotto::test::run_process;

TEST_CASE("sotto derive prints ENIN, RPI and AEM per interval", "[cli][derive]") {
    auto r = run_process({cli_path(), "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125",
                          "--interval", "2642976", "--count", "3"});
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out ==
          "2642976 8be6cd371c5c891604bfbe49df845096 72033874\n"
          "2642977 3c9a1de5dd6b02afa7fded7b570b3e56 c29211b1\n"
          "2642978 243ffe9a3b08bded3094bac8630bb8ad 6adfad03\n");
}

TEST_CASE("sotto derive defaults to one interval and metadata 40080000", "[cli][derive]") {
    auto r = run_process({cli_path(), "derive", "--tek", "75C734C6DD1A782DE7A965DA5EB93125",
                          "--interval", "2643119"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "2643119 f431b62ecf443102ce4ed0407de54bd4 1215e57e\n");
    // Other metadata: same RPI, other AEM.
    auto m = run_process({cli_path(), "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125",
                          "--interval", "2643119", "--metadata", "5c010000"});
    CHECK(m.exit_code == 0);
    CHECK(m.out.rfind("2643119 f431b62ecf443102ce4ed0407de54bd4 ", 0) == 0);
    CHECK(m.out != r.out);
}

TEST_CASE("sotto derive reproduces all 144 official vectors", "[cli][derive][data]") {
    const auto rows = sotto::test::parse_csv(
        sotto::test::read_text(sotto::test::gaen_data("crypto/gaen_test_vectors_v1.2.csv")));
    auto r = run_process({cli_path(), "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125",
                          "--interval", "2642976", "--count", "144"});
    REQUIRE(r.exit_code == 0);
    std::string expected;
    for (std::size_t i = 1; i < rows.size(); ++i)
        expected += rows[i][0] + " " + rows[i][2] + " " + rows[i][3] + "\n";
    CHECK(r.out == expected);
}

TEST_CASE("sotto derive: bad arguments exit 2 with one line on stderr", "[cli][derive]") {
    const std::string tek = "75c734c6dd1a782de7a965da5eb93125";
    const std::vector<std::vector<std::string>> bad = {
        {"derive", "--tek", "75c7", "--interval", "1"},
        {"derive", "--tek", tek + "00", "--interval", "1"},
        {"derive", "--tek", "zz" + tek.substr(2), "--interval", "1"},
        {"derive", "--tek", tek},
        {"derive", "--interval", "1"},
        {"derive", "--tek", tek, "--interval", "-1"},
        {"derive", "--tek", tek, "--interval", "abc"},
        {"derive", "--tek", tek, "--interval", "4294967296"},
        {"derive", "--tek", tek, "--interval", "1", "--count", "0"},
        {"derive", "--tek", tek, "--interval", "1", "--count", "145"},
        {"derive", "--tek", tek, "--interval", "4294967295", "--count", "2"},
        {"derive", "--tek", tek, "--interval", "1", "--metadata", "4008"},
        {"derive", "--tek", tek, "--interval", "1", "--metadata", "4008000g"},
        {"derive", "--tek", tek, "--interval", "1", "--bogus"},
        {"nosuchcommand"},
        {},
    };
    for (auto args : bad) {
        args.insert(args.begin(), cli_path());
        auto r = run_process(args);
        CAPTURE(args);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(!r.err.empty());
        CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
    }
}

TEST_CASE("sotto derive accepts the last interval of the uint32 range", "[cli][derive]") {
    auto r = run_process({cli_path(), "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125",
                          "--interval", "4294967295"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("4294967295 ", 0) == 0);
}
