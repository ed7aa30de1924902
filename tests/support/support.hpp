#pragma once
// Shared test helpers: real-data lookup, hex literals, child processes, temp dirs.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/error.hpp>
#include <sotto/result.hpp>

namespace Catch {
template <>
struct StringMaker<sotto::Error> {
    static std::string convert(const sotto::Error& e) {
        return std::string(sotto::error_code_name(e.code)) + ": " + e.what;
    }
};
}  // namespace Catch

namespace sotto::test {

/// Exit code registered with ctest as SKIP_RETURN_CODE.
inline constexpr int kSkipExitCode = 4;

/// Path of `relative` under the real GAEN data directory (../shared/gaen-data by default,
/// CMake cache variable SOTTO_GAEN_DATA_DIR). When it is missing, the test is reported as skipped
/// with a message on stderr; with CI=true it fails instead.
std::filesystem::path gaen_data(std::string_view relative);

/// Bytes from hex; aborts the test on bad hex.
std::vector<std::uint8_t> hex(std::string_view h);

/// Whole file as bytes / as text.
std::vector<std::uint8_t> read_file(const std::filesystem::path& p);
std::string read_text(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, std::span<const std::uint8_t> bytes);
void write_text(const std::filesystem::path& p, std::string_view text);

/// Splits CSV text into rows of fields, skipping blank lines and lines starting with '#'.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

/// The result of running a child process.
struct ProcessResult {
    int exit_code = -1;  ///< exit status, or 128 + signal
    std::string out;
    std::string err;
};

/// Runs `argv` (argv[0] is a path), optionally feeding `stdin_text`, and collects its output.
/// Exit code 127: the program could not be executed. In a cross build whose tests run under an
/// emulator, a program built for the target is run under the same emulator (so a plain
/// $<TARGET_FILE:...> path works here; code that execs by itself needs sotto_exec_path()).
ProcessResult run_process(const std::vector<std::string>& argv, std::string_view stdin_text = {});

/// A child process whose stdout is a pipe to the test: for crash tests that read its progress
/// lines and kill it at a chosen moment. `argv[0]` is a path, executed as is (no emulator).
/// The destructor kills (SIGKILL) and reaps a child still running.
class PipedChild {
public:
    explicit PipedChild(const std::vector<std::string>& argv);
    ~PipedChild();
    PipedChild(const PipedChild&) = delete;
    PipedChild& operator=(const PipedChild&) = delete;

    /// One line of its stdout without the newline (blocking); "" at end of file.
    std::string read_line();
    /// The rest of its stdout, up to end of file.
    std::string read_all();
    /// Waits for the child, first killing it with SIGKILL when `kill_it`; returns the wait status.
    int reap(bool kill_it);

private:
    int pid_ = -1;
    int out_ = -1;
};

/// Path of the built `sotto` tool.
std::string cli_path();

/// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace sotto::test
