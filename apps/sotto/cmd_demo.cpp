// sotto demo [--out DIR] [--keep DIR]: the whole system on a simulated air (see demo/demo.hpp).
#include <memory>
#include <string>

#include "commands.hpp"
#include "demo/demo.hpp"

namespace sotto::cli {

void add_demo_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<demo::DemoOptions>();
    auto keep = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("demo",
                                   "Three simulated days of four phones: exposure, publication, "
                                   "download, check, relay, forgery");
    cmd->add_option("--out", o->out_dir, "Where timeline.svg is written")->capture_default_str();
    cmd->add_option("--keep", *keep, "Keep the stores and downloads in this directory");
    cmd->callback([o, keep, &run] {
        run = [o, keep] {
            if (!keep->empty()) o->keep = *keep;
            return demo::run_demo(*o);
        };
    });
}

}  // namespace sotto::cli
