#pragma once
/// \file
/// Raw NOR flash as the flash log sees it, and a simulation that enforces NOR rules and can cut
/// the power at any step (for tests on the host and for the token firmware under QEMU).

#include <cstddef>
#include <cstdint>
#include <span>

namespace sotto::flashlog {

/// A NOR flash region of `page_count()` erase pages of `page_size()` bytes.
///
/// NOTE for implementers: `erase` sets every byte of a page to 0xFF; `program` can only clear bits
/// (each byte becomes `old & new`); both may be interrupted by a power cut, leaving the page or
/// the range partly changed. Addresses and lengths passed by the flash log are multiples of 4.
/// Calls come from one thread; each returns false on a failure (out of range, hardware error).
class FlashDevice {
public:
    virtual ~FlashDevice() = default;
    virtual std::size_t page_size() const noexcept = 0;
    virtual std::size_t page_count() const noexcept = 0;
    virtual bool erase(std::size_t page) noexcept = 0;
    virtual bool program(std::size_t address, std::span<const std::uint8_t> data) noexcept = 0;
    virtual bool read(std::size_t address, std::span<std::uint8_t> out) noexcept = 0;
};

/// NOR flash in caller-provided RAM. `program` refuses (returns false, changes nothing) to turn
/// a 0 bit into 1, and refuses unaligned writes. `cut_power_after(n)` lets n more erase/program
/// steps succeed; the next one is torn (an erase leaves a prefix of the page erased and the rest
/// as it was, a program writes a prefix of its bytes and half the bits of the next) and every
/// later call fails until `power_on()`.
class SimFlash final : public FlashDevice {
public:
    SimFlash(std::span<std::uint8_t> memory, std::size_t page_size) noexcept;

    std::size_t page_size() const noexcept override { return page_size_; }
    std::size_t page_count() const noexcept override { return mem_.size() / page_size_; }
    bool erase(std::size_t page) noexcept override;
    bool program(std::size_t address, std::span<const std::uint8_t> data) noexcept override;
    bool read(std::size_t address, std::span<std::uint8_t> out) noexcept override;

    /// Erase/program steps (successful or torn) since construction.
    std::uint64_t steps() const noexcept { return steps_; }
    std::uint64_t erases() const noexcept { return erases_; }
    void cut_power_after(std::uint64_t n) noexcept;
    void power_on() noexcept;
    bool powered() const noexcept { return powered_; }
    /// Sets every byte to 0xFF (a blank chip).
    void wipe_chip() noexcept;

private:
    bool step() noexcept;  // false: this step is the torn one
    std::span<std::uint8_t> mem_;
    std::size_t page_size_;
    std::uint64_t steps_ = 0;
    std::uint64_t erases_ = 0;
    std::uint64_t budget_ = UINT64_MAX;
    bool powered_ = true;
};

}  // namespace sotto::flashlog
