#pragma once
/// \file
/// The token's encrypted log on raw NOR flash: its own TEKs and the heard RPI-interval rows, in
/// sealed pages (AES-128-CTR then HMAC-SHA256, keys that only the device key opens), used as a
/// ring, one UTC day per page, retention by whole days, "forget me" by crypto-shredding.
/// Layout, formats and the power-cut argument: docs/embedded.md.
///
/// Durability: a call that returns success has its data on flash; a power cut at any step of any
/// call loses at most that call's data, and `open` afterwards succeeds and never returns a
/// half-written record. No heap: the log keeps its state in the object (232 bytes on a Cortex-M4)
/// and a call uses about 1.5 KiB of stack. Not thread-safe: one thread owns the log and its
/// FlashDevice.

#include <cstddef>
#include <cstdint>
#include <span>

#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/flashlog/flash_device.hpp>
#include <sotto/result.hpp>

namespace sotto::flashlog {

/// One heard RPI during one interval of the token's clock (24 bytes on flash).
struct HeardRow {
    std::uint8_t interval = 0;  ///< interval within the day, 0..143
    core::RollingProximityId rpi;
    core::AssociatedEncryptedMetadata aem;
    std::int8_t rssi_max = -127;  ///< dBm
    std::int8_t rssi_mean = -127;
    std::uint8_t count = 0;  ///< packets heard, saturating at 255
    friend bool operator==(const HeardRow&, const HeardRow&) = default;
};

inline constexpr std::size_t kRowBytes = 24;
/// Page size the formats are designed for (nRF52, ESP32, most external NOR): 4 KiB. 256..65536
/// work.
inline constexpr std::size_t kDefaultPageSize = 4096;
/// Pages at the start of the device that hold the key record (A/B).
inline constexpr std::size_t kKeyPages = 2;

/// What the log holds, for readers.
class LogVisitor {
public:
    virtual ~LogVisitor() = default;
    /// One of the device's own TEKs.
    virtual bool on_tek(const core::ExposureKey& key) noexcept = 0;
    /// Rows of `day` (days since the epoch, ENIN / 144). Return false to stop.
    virtual bool on_rows(std::uint32_t day, std::span<const HeardRow> rows) noexcept = 0;
};

/// Receives the export stream in pieces. Returns false to abort the export.
using ExportSink = bool (*)(void* context, const std::uint8_t* data, std::size_t size);

struct LogStats {
    std::size_t pages = 0;       ///< log pages (device pages minus kKeyPages)
    std::size_t live_pages = 0;  ///< pages holding data
    std::size_t rows = 0;
    std::size_t teks = 0;
    std::uint32_t dropped_pages = 0;  ///< oldest pages overwritten because the log was full
    std::uint32_t export_sequence = 0;
    bool paired = false;
};

class FlashLog {
public:
    /// Opens the log on `flash` (at least kKeyPages + 2 pages), creating it on a blank or
    /// unreadable device. `device_key` is the chip's unique secret (from a key-management unit or
    /// eFuses); `rng` must be the hardware TRNG (new log keys, nonces). Finishes whatever a power
    /// cut interrupted: erases torn, stale and replayed pages.
    /// kStorageIo if the flash fails; kInvalidArgument for a geometry it cannot use.
    static Result<FlashLog> open(FlashDevice& flash, std::span<const std::uint8_t, 32> device_key,
                                 core::Rng& rng, std::uint32_t retention_days = 14) noexcept;
    FlashLog(FlashLog&&) noexcept = default;
    FlashLog& operator=(FlashLog&&) noexcept = default;
    ~FlashLog();

    /// Records the day's own TEK (its rolling start gives the day). Starts the day's page.
    Result<void> put_tek(const core::ExposureKey& key) noexcept;

    /// Appends rows heard on `day`; committed when this returns success. kInvalidArgument for an
    /// interval > 143 or a day older than the newest day in the log.
    Result<void> append(std::uint32_t day, std::span<const HeardRow> rows) noexcept;

    /// Drops the pages of days before `today - retention_days + 1`, after recording the new
    /// oldest page so that an erased page cannot be replayed.
    Result<void> apply_retention(std::uint32_t today) noexcept;

    /// "Forget me": a new log key replaces the old one (whose only copy is then erased: the old
    /// pages become unreadable at once), then every log page is erased. The pairing survives.
    Result<void> forget() noexcept;

    /// Stores the 32-byte key shared with the host at pairing; later exports are sealed for it.
    Result<void> pair(std::span<const std::uint8_t, 32> pairing_key) noexcept;

    /// Writes the whole log as an export stream for the paired host (docs/embedded.md): a fresh
    /// sequence number is committed to flash first, so a host can refuse replays.
    /// kFailedPrecondition if not paired; kStorageIo if the flash fails or the sink refuses.
    Result<void> export_to(ExportSink sink, void* context) noexcept;

    /// Reads every TEK and row, oldest page first; kStorageIo if the flash fails. A record that
    /// fails its tag (torn by a power cut, or altered) ends its page: nothing after it is read.
    Result<void> visit(LogVisitor& visitor) noexcept;

    Result<LogStats> stats() noexcept;

    /// Rows that fit in one page (168 with 4 KiB pages).
    std::size_t rows_per_page() const noexcept;

private:
    FlashLog() noexcept = default;
    struct PageInfo;
    Result<void> load_keys(std::span<const std::uint8_t, 32> device_key) noexcept;
    Result<void> write_key_record() noexcept;
    Result<void> scan() noexcept;
    bool read_header(std::size_t page, PageInfo& info) noexcept;
    Result<void> open_page(std::uint32_t day) noexcept;
    Result<void> write_record(std::uint8_t kind, const std::uint8_t* payload, std::size_t len,
                              const HeardRow* rows) noexcept;
    Result<void> ensure_room(std::uint32_t day, std::size_t payload_len) noexcept;
    Result<void> walk(LogVisitor& visitor, bool count_only, LogStats* stats) noexcept;
    void derive_page_keys() noexcept;

    FlashDevice* flash_ = nullptr;
    core::Rng* rng_ = nullptr;
    std::uint32_t retention_days_ = 14;
    std::size_t page_size_ = 0;
    std::size_t pages_ = 0;
    // The key record (A/B slots).
    std::uint8_t slot_enc_[16] = {};
    std::uint8_t slot_mac_[32] = {};
    std::uint8_t log_key_[32] = {};
    std::uint8_t token_id_[8] = {};
    std::uint8_t pairing_key_[32] = {};
    std::uint32_t paired_ = 0;
    std::uint32_t export_seq_ = 0;
    std::uint32_t generation_ = 0;
    std::size_t slot_ = 0;
    // Page keys, from the log key.
    std::uint8_t enc_[16] = {};
    std::uint8_t mac_[32] = {};
    // The head (newest) page.
    bool has_head_ = false;
    bool head_closed_ = false;
    std::size_t head_page_ = 0;
    std::size_t head_off_ = 0;
    std::uint32_t head_seq_ = 0;
    std::uint32_t head_day_ = 0;
    std::uint32_t oldest_seq_ = 0;
    std::uint32_t dropped_pages_ = 0;
};

}  // namespace sotto::flashlog
