#pragma once
/// \file
/// Which URLs the downloader may connect to.

#include <string_view>

#include <sotto/result.hpp>

namespace sotto::fetch {

/// Checks a URL before any connection: `https://` to any host; plain `http://` only to a loopback
/// host (`127.0.0.0/8` written as four decimal numbers, `[::1]`, or `localhost`), for tests and
/// local mirrors. The URL is parsed by the same parser (libcurl's) that later connects, so the
/// host checked is the host contacted.
///
/// Errors: kNetworkRefused (other scheme, http to a non-loopback host, no host, credentials in the
/// URL); kInvalidArgument (not a URL). Thread-safe; no I/O.
Result<void> check_url(std::string_view url);

}  // namespace sotto::fetch
