// index.txt parsing: strict paths, bounded entries.

#include <sotto/fetch/index.hpp>

#include <new>
#include <unordered_set>

namespace sotto::fetch {

bool is_valid_export_path(std::string_view path, std::size_t max_bytes) noexcept {
    if (path.empty() || path.size() > max_bytes || path.front() == '/') return false;
    if (path.size() < 5 || path.substr(path.size() - 4) != ".zip") return false;
    std::size_t component_start = 0;
    for (std::size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            const std::string_view comp = path.substr(component_start, i - component_start);
            if (comp.empty() || comp == "." || comp == "..") return false;
            component_start = i + 1;
            continue;
        }
        const char c = path[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Result<Index> parse_index(std::string_view text, const IndexLimits& limits) {
    try {
        Index out;
        std::unordered_set<std::string_view> seen;
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string_view::npos) end = text.size();
            std::string_view line = text.substr(pos, end - pos);
            pos = end + 1;
            while (!line.empty() &&
                   (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
                line.remove_suffix(1);
            }
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
                line.remove_prefix(1);
            if (line.empty()) continue;
            if (!is_valid_export_path(line, limits.max_line_bytes)) {
                ++out.lines_refused;
                continue;
            }
            if (!seen.insert(line).second) {
                ++out.lines_duplicate;
                continue;
            }
            if (out.entries.size() >= limits.max_entries) {
                return make_error(ErrorCode::kNetworkTooLarge, "index: too many entries");
            }
            out.entries.emplace_back(line);
        }
        return out;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "index: out of memory");
    }
}

}  // namespace sotto::fetch
