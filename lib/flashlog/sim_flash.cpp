#include <cstring>

#include <sotto/flashlog/flash_device.hpp>

namespace sotto::flashlog {

SimFlash::SimFlash(std::span<std::uint8_t> memory, std::size_t page_size) noexcept
    : mem_(memory), page_size_(page_size) {}

void SimFlash::cut_power_after(std::uint64_t n) noexcept { budget_ = n; }

void SimFlash::power_on() noexcept {
    powered_ = true;
    budget_ = UINT64_MAX;
}

void SimFlash::wipe_chip() noexcept { std::memset(mem_.data(), 0xff, mem_.size()); }

bool SimFlash::step() noexcept {
    ++steps_;
    if (budget_ == 0) {
        powered_ = false;
        return false;
    }
    if (budget_ != UINT64_MAX) --budget_;
    return true;
}

bool SimFlash::erase(std::size_t page) noexcept {
    if (!powered_ || page >= page_count()) return false;
    ++erases_;
    std::uint8_t* p = mem_.data() + page * page_size_;
    if (!step()) {  // torn: a prefix erased (varies with the step count), the rest untouched
        std::memset(p, 0xff, (steps_ * 97) % page_size_);
        return false;
    }
    std::memset(p, 0xff, page_size_);
    return true;
}

bool SimFlash::program(std::size_t address, std::span<const std::uint8_t> data) noexcept {
    if (!powered_ || address % 4 != 0 || data.size() % 4 != 0 || address > mem_.size() ||
        data.size() > mem_.size() - address)
        return false;
    std::uint8_t* p = mem_.data() + address;
    for (std::size_t i = 0; i < data.size(); ++i)
        if ((data[i] & ~p[i]) != 0) return false;  // NOR: a 0 bit cannot become 1
    if (!step()) {  // torn: a prefix of the bytes, then half the bits of the next byte
        const std::size_t n = data.empty() ? 0 : (steps_ * 31) % data.size();
        for (std::size_t i = 0; i < n; ++i) p[i] &= data[i];
        if (n < data.size()) p[n] &= static_cast<std::uint8_t>(data[n] | 0x0f);
        return false;
    }
    for (std::size_t i = 0; i < data.size(); ++i) p[i] &= data[i];
    return true;
}

bool SimFlash::read(std::size_t address, std::span<std::uint8_t> out) noexcept {
    if (!powered_ || address > mem_.size() || out.size() > mem_.size() - address) return false;
    std::memcpy(out.data(), mem_.data() + address, out.size());
    return true;
}

}  // namespace sotto::flashlog
