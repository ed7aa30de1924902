#pragma once
// Schema migrations, tracked with `PRAGMA user_version`. Migration i takes the schema from
// version i - 1 to version i; each runs in its own transaction together with the version bump,
// so a crash leaves the store at one version or the next, never in between.

#include <cstdint>
#include <span>

#include <sotto/result.hpp>

namespace sotto::store::detail {

class Database;

/// `PRAGMA application_id` of a sotto store ("SOTT").
inline constexpr std::int64_t kApplicationId = 0x534F5454;

struct Migration {
    int version;              ///< schema version after this step
    const char* description;  ///< for docs and test names
    const char* sql;          ///< DDL, run inside the step's transaction
};

/// All migrations, in order; the last one's version is kSchemaVersion.
std::span<const Migration> migrations() noexcept;

/// Runs the migrations after `from` up to and including `to`, one transaction each.
/// kInternal if `from > to` or `to` is unknown.
Result<void> migrate(Database& db, int from, int to);

}  // namespace sotto::store::detail
