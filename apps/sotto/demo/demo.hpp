#pragma once
// `sotto demo` (and `sotto-demo`): three simulated days of four people on the simulated air, each
// phone a full Tracer with its own encrypted store; one tests positive and publishes a signed key
// file, served over HTTP on 127.0.0.1 in the export-bucket layout; the others download it with
// lib/fetch, verify, check and report; a relay's replayed beacons come out as suspect; a forged
// file is refused. Prints the story and writes an SVG timeline.

#include <filesystem>
#include <optional>

namespace sotto::demo {

struct DemoOptions {
    /// Where timeline.svg is written (created if missing).
    std::filesystem::path out_dir = "sotto-demo-output";
    /// Keep the stores and downloaded files here instead of a removed temporary directory.
    std::optional<std::filesystem::path> keep;
};

/// Runs the demo; returns the exit code (0 ok, 1 failure). Never throws.
int run_demo(const DemoOptions& options) noexcept;

}  // namespace sotto::demo
