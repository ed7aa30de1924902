// sotto derive --tek HEX --interval ENIN [--count N] [--metadata HEX]
#include <cstdint>
#include <memory>
#include <vector>

#include <fmt/core.h>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>

#include "commands.hpp"

namespace sotto::cli {
namespace {

struct DeriveOptions {
    std::string tek_hex;
    std::uint32_t interval = 0;
    std::uint32_t count = 1;
    std::string metadata_hex = "40080000";
};

int run_derive(DeriveOptions& o) {
    using namespace sotto::core;
    auto tek = TemporaryExposureKey::from_hex(o.tek_hex);
    detail::secure_wipe(o.tek_hex.data(), o.tek_hex.size());
    if (!tek) return fail(kExitUsage, "derive: --tek must be 32 hex digits");
    MetadataBytes metadata{};
    if (!from_hex_into(o.metadata_hex, metadata))
        return fail(kExitUsage, "derive: --metadata must be 8 hex digits");
    if (o.count < 1 || o.count > kTekRollingPeriod)
        return fail(kExitUsage, "derive: --count must be 1..144");
    if (o.interval > UINT32_MAX - (o.count - 1))
        return fail(kExitUsage, "derive: --interval + --count leaves the ENIN range");

    auto deriver = RpiDeriver::create();
    if (!deriver) return fail(kExitFailure, deriver.error().what);
    std::vector<RollingProximityId> rpis(o.count);
    if (auto r = deriver->derive(*tek, o.interval, rpis); !r)
        return fail(kExitFailure, r.error().what);
    const auto aemk = derive_aemk(*tek);
    for (std::uint32_t i = 0; i < o.count; ++i) {
        auto aem = deriver->crypt_aem(aemk, rpis[i], metadata);
        if (!aem) return fail(kExitFailure, aem.error().what);
        fmt::print("{} {} {}\n", o.interval + i, to_hex(rpis[i].bytes), to_hex(aem->bytes));
    }
    return kExitOk;
}

}  // namespace

void add_derive_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<DeriveOptions>();
    auto* cmd = app.add_subcommand("derive", "Print the RPIs and AEMs a TEK produces");
    cmd->add_option("--tek", o->tek_hex, "Temporary Exposure Key, 32 hex digits")->required();
    cmd->add_option("--interval", o->interval, "First ENIntervalNumber")->required();
    cmd->add_option("--count", o->count, "Number of intervals (1..144)")->capture_default_str();
    cmd->add_option("--metadata", o->metadata_hex, "Plain metadata, 8 hex digits")
        ->capture_default_str();
    cmd->callback([o, &run] { run = [o] { return run_derive(*o); }; });
}

}  // namespace sotto::cli
