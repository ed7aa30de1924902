#pragma once
// org.bluez.Device1 signals: conversion of the D-Bus property map into the plain values that
// device_properties.hpp decodes.

#include <vector>

#include "dbus.hpp"
#include "device_properties.hpp"

namespace sotto::platform::bluez {

/// The plain form of a Device1 property map. Only RSSI, Address and ServiceData are converted
/// (the rest keep just their signature). Never throws: a value that cannot be read keeps an
/// empty signature, which decoding treats as the wrong type.
std::vector<PlainProperty> to_plain(const PropertyMap& properties) noexcept;

}  // namespace sotto::platform::bluez
