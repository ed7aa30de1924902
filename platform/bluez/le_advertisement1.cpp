#include "le_advertisement1.hpp"

#include <vector>

namespace sotto::platform::bluez {

LEAdvertisement1::LEAdvertisement1(sdbus::IConnection& connection, std::string path,
                                   std::function<void()> on_release)
    : path_(std::move(path)), on_release_(std::move(on_release)) {
    object_ = sdbus::createObject(connection, path_);
    object_->registerMethod("Release")
        .onInterface(kAdvertisementIface)
        .implementedAs([this] {
            try {
                if (on_release_) on_release_();
            } catch (...) {
            }
        })
        .withNoReply();
    object_->registerProperty("Type").onInterface(kAdvertisementIface).withGetter([] {
        return std::string("broadcast");
    });
    object_->registerProperty("ServiceUUIDs").onInterface(kAdvertisementIface).withGetter([] {
        return std::vector<std::string>{"fd6f"};
    });
    object_->registerProperty("MinInterval").onInterface(kAdvertisementIface).withGetter([] {
        return kMinIntervalMs;
    });
    object_->registerProperty("MaxInterval").onInterface(kAdvertisementIface).withGetter([] {
        return kMaxIntervalMs;
    });
    object_->registerProperty("ServiceData").onInterface(kAdvertisementIface).withGetter([this] {
        std::vector<std::uint8_t> bytes;
        {
            std::lock_guard lock(mutex_);
            bytes.assign(payload_.begin(), payload_.end());
        }
        return PropertyMap{{"fd6f", sdbus::Variant(bytes)}};
    });
    object_->finishRegistration();
}

LEAdvertisement1::~LEAdvertisement1() {
    try {
        object_.reset();
    } catch (...) {
    }
}

void LEAdvertisement1::set_payload(const core::ServiceData& payload) {
    std::lock_guard lock(mutex_);
    payload_ = payload;
}

}  // namespace sotto::platform::bluez
