// The process the crash test kills with SIGKILL.
//
//   crash_child ingest PATH FIRST_BATCH KEY_SEED   ingests batches FIRST_BATCH, FIRST_BATCH+1, ...
//                                                  printing "committed <b>" after each commit
//   crash_child rekey PATH FROM_SEED TO_SEED       prints "ready", rekeys, prints "rekeyed"
//
// Exit code 1 (and a line on stderr) on any store error.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <sotto/error.hpp>
#include <sotto/store/encounter_store.hpp>

#include "crash_common.hpp"

using namespace sotto;

namespace {
int fail(const Error& e) {
    std::fprintf(stderr, "crash_child: %s: %s\n", error_code_name(e.code), e.what);
    return 1;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: crash_child ingest|rekey PATH A B\n");
        return 2;
    }
    const std::string mode = argv[1];
    const std::string path = argv[2];
    const auto a = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
    const auto b = static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10));
    if (mode == "ingest") {
        auto s = store::EncounterStore::open(
            path, store::Credential::raw_key(test::crash::key(static_cast<std::uint8_t>(b))));
        if (!s) return fail(s.error());
        for (std::uint32_t batch = a;; ++batch) {
            const auto obs = test::crash::batch(batch);
            auto r = s->ingest(obs, test::crash::kNow);
            if (!r) return fail(r.error());
            std::printf("committed %u\n", batch);
            std::fflush(stdout);
        }
    }
    if (mode == "rekey") {
        auto s = store::EncounterStore::open(
            path, store::Credential::raw_key(test::crash::key(static_cast<std::uint8_t>(a))));
        if (!s) return fail(s.error());
        std::printf("ready\n");
        std::fflush(stdout);
        auto r =
            s->rekey(store::Credential::raw_key(test::crash::key(static_cast<std::uint8_t>(b))));
        if (!r) return fail(r.error());
        std::printf("rekeyed\n");
        std::fflush(stdout);
        return 0;
    }
    return 2;
}
