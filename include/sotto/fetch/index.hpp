#pragma once
/// \file
/// The export index of a diagnosis-key server: `index.txt` in the layout of Google's
/// exposure-notifications-server export bucket, one export zip path per line, relative to the
/// bucket root (`exposureKeyExport-DE/1614816000-1614902400-00001.zip`).
///
/// Pure: text in, checked paths out. No I/O, no clock, thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/result.hpp>

namespace sotto::fetch {

/// Bounds on an index. The defaults are far above what real servers publish (Google's keeps 14
/// days of hourly batches: a few hundred lines of about 60 bytes).
struct IndexLimits {
    std::size_t max_entries = 10'000;  ///< more distinct valid entries: kNetworkTooLarge
    std::size_t max_line_bytes = 512;  ///< longer lines are refused and counted
};

/// A parsed index.
struct Index {
    /// Valid paths, in file order, without duplicates.
    std::vector<std::string> entries;
    /// Non-empty lines that were refused (too long, odd characters, `..`, absolute, not `.zip`).
    std::uint64_t lines_refused = 0;
    /// Lines naming a path already listed (ignored).
    std::uint64_t lines_duplicate = 0;
};

/// True when `path` is a path the downloader accepts: 1..`max_bytes` bytes of `[A-Za-z0-9._-/]`,
/// relative (no leading `/`), no empty, `.` or `..` component, ending in `.zip`. Anything that
/// could leave the bucket root (`../x`, `/etc/x`, `https://other/x`, `%2e%2e`) is refused.
bool is_valid_export_path(std::string_view path, std::size_t max_bytes = 512) noexcept;

/// Parses index text: lines split at `\n` (a trailing `\r` and surrounding spaces and tabs are
/// dropped), blank lines skipped, each other line checked with `is_valid_export_path`.
/// Runs in time linear in `text.size()`. Errors: kNetworkTooLarge when more than
/// `limits.max_entries` distinct valid entries; kOutOfMemory.
Result<Index> parse_index(std::string_view text, const IndexLimits& limits = {});

}  // namespace sotto::fetch
