#pragma once
// The streaming export.bin parser: header check, then the TemporaryExposureKeyExport field by
// field, every key validated and handed to the sink, every byte hashed with SHA-256.

#include <cstdint>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/result.hpp>

#include "keyfile/byte_source.hpp"

namespace sotto::keyfile::detail {

/// Parses export.bin from `source`. `size` is the size the container declares (the file size,
/// the zip's uncompressed size, the span size); lengths inside the protobuf that point past it
/// are refused before anything is allocated. Fills the header fields, key counts,
/// `export_bin_bytes` and `export_bin_sha256` of `info`. `sink` may be null (count only).
///
/// Errors: kKeyFileMalformed, kKeyFileTooLarge (more than options.max_export_bin_bytes), and the
/// source's own errors (kKeyFileIo).
Result<void> parse_export_bin(ByteSource& source, std::uint64_t size, const ReadOptions& options,
                              const KeySink* sink, ExportInfo& info);

}  // namespace sotto::keyfile::detail
