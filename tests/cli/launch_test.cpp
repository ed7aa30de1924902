// How tests start built programs: through the path sotto_exec_path() gives (SOTTO_CLI_PATH), and
// through run_process() with the program's own file, which in cross builds falls back to the
// emulator. Natively both are the same program.
#include <catch2/catch.hpp>

#include "support.hpp"

TEST_CASE("A built program starts from its exec path and from its own file", "[cli]") {
    for (const char* path : {SOTTO_CLI_PATH, SOTTO_CLI_BINARY}) {
        CAPTURE(path);
        const auto r = sotto::test::run_process({path, "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("sotto") != std::string::npos);
        // Negative neighbour: the same program refuses a missing subcommand.
        CHECK(sotto::test::run_process({path}).exit_code != 0);
    }
}

TEST_CASE("A file that is not a program gives exit code 127", "[cli]") {
    sotto::test::TempDir dir;
    sotto::test::write_text(dir / "not-a-program", "these bytes are no executable\n");
    CHECK(sotto::test::run_process({(dir / "not-a-program").string()}).exit_code == 127);
    CHECK(sotto::test::run_process({(dir / "missing").string()}).exit_code == 127);
}
