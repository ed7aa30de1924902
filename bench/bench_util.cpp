// Helpers shared by the benchmarks: child processes for peak-RSS measurements and a generated
// signed export.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sotto/core/rng.hpp>

#include "bench.hpp"

namespace sotto::bench {

namespace fs = std::filesystem;

long vm_hwm_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

long measure_child(const std::vector<std::string>& subcommand_args) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        std::vector<std::string> args = {fs::read_symlink("/proc/self/exe").string()};
        args.insert(args.end(), subcommand_args.begin(), subcommand_args.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) return -1;
    return std::stol(out);
}

void write_generated_export(const std::string& zip, std::uint32_t n_keys,
                            const keyfile::ExportSigner& signer) {
    std::vector<core::DiagnosisKey> keys(n_keys);
    core::DeterministicRng rng(2024);
    for (std::uint32_t i = 0; i < n_keys; ++i) {
        auto& k = keys[i];
        rng.fill(k.exposure_key.tek.expose_secret_mut());
        k.exposure_key.rolling_start = 2690064 - 144 * (i % 14);
        k.transmission_risk_level = static_cast<std::int32_t>(1 + i % 8);
        k.report_type = core::ReportType::kConfirmedTest;
        k.days_since_onset = 1 + static_cast<std::int32_t>(i % 2);
    }
    keyfile::ExportWriteOptions w;
    w.key_id = "262";
    w.key_version = "v1";
    w.region = "DE";
    w.start_timestamp = 1614816000;
    w.end_timestamp = 1614902400;
    if (auto r = keyfile::write_export_zip(zip, keys, signer, w, rng); !r)
        throw std::runtime_error(r.error().what);
}

keyfile::ReadOptions large_read_options() {
    keyfile::ReadOptions o;
    o.max_export_bin_bytes = std::uint64_t{256} << 20;
    return o;
}

}  // namespace sotto::bench
