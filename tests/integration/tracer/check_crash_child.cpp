// The process the check crash test kills with SIGKILL:
//
//   check_crash_child STORE DIR COUNT
//
// opens a Tracer on STORE trusting DIR/trust.pem and checks DIR/export<i>.zip for i = 0..COUNT-1,
// one file per check, with the clock at kFirstCheck + i. Prints "checked <i> <recorded 0/1>" after
// each check and "done" at the end. Exit code 1 (and a line on stderr) on any error.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sotto/clock.hpp>
#include <sotto/error.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/check_crash_common.hpp"

using namespace sotto;
namespace cc = sotto::test::check_crash;

namespace {
int fail(const char* what, const Error& e) {
    std::fprintf(stderr, "check_crash_child: %s: %s: %s\n", what, error_code_name(e.code), e.what);
    return 1;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: check_crash_child STORE DIR COUNT\n");
        return 2;
    }
    const std::filesystem::path dir = argv[2];
    const auto count = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
    std::ifstream pem_in(dir / "trust.pem");
    std::stringstream pem;
    pem << pem_in.rdbuf();
    TracerOptions o;
    if (auto r = o.trust.add_pem("999", "v1", pem.str()); !r) return fail("trust", r.error());
    ManualClock clock(cc::kFirstCheck * 1000);
    auto tracer = Tracer::open(argv[1], cc::credential(), clock, std::move(o));
    if (!tracer) return fail("open", tracer.error());
    for (std::uint32_t i = 0; i < count; ++i) {
        clock.set_ms((cc::kFirstCheck + i) * 1000);
        auto imported = tracer->import_key_file(dir / cc::file_name(i));
        if (!imported) return fail("import", imported.error());
        if (imported->status == KeyFileStatus::kRefused) return fail("import", *imported->reason);
        auto checked = tracer->check();
        if (!checked) return fail("check", checked.error());
        std::printf("checked %u %d\n", i, checked->recorded ? 1 : 0);
        std::fflush(stdout);
    }
    std::printf("done\n");
    std::fflush(stdout);
    return 0;
}
