#pragma once
// Internal access to an EncounterStore's connection, for tests (raw SQL on fixtures, pragmas)
// and for the plain-SQLite benchmark build. Not installed, not part of the API.

#include <filesystem>

#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"

namespace sotto::store::detail {

struct StoreAccess {
    /// The store's connection. Callers must not use it concurrently with the store's own calls.
    static Database& database(EncounterStore& store) noexcept;

#if defined(SOTTO_STORE_PLAIN_SQLITE)
    /// Only in the plain-SQLite build (`sotto_store_plain`, used by `sotto-bench store`): the same
    /// schema, pragmas and code paths without encryption, so that the benchmark compares like with
    /// like. The production build has no such function.
    static Result<EncounterStore> open_unencrypted_for_benchmark(const std::filesystem::path& path,
                                                                 const OpenOptions& options);
#endif
};

}  // namespace sotto::store::detail
