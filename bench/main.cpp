// sotto-bench <derive|store|match|floor|keyfile|air|tracer|fetch|capi|update>: prints measurements,
// ending with one key=value line.
#include "bench.hpp"

int main(int argc, char** argv) {
    CLI::App app{"sotto benchmarks"};
    app.require_subcommand(1);
    sotto::bench::add_derive_bench(app);
    sotto::bench::add_match_bench(app);
    sotto::bench::add_floor_bench(app);
    sotto::bench::add_keyfile_bench(app);
    sotto::bench::add_store_bench(app);
    sotto::bench::add_tracer_bench(app);
    sotto::bench::add_air_bench(app);
    sotto::bench::add_fetch_bench(app);
    sotto::bench::add_capi_bench(app);
    sotto::bench::add_update_bench(app);
    CLI11_PARSE(app, argc, argv);
    return 0;
}
