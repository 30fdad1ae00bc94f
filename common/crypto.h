// Hashing, hex and Ed25519: the byte-level primitives every hash and signature in Cairn rests on.
//
// Stateless functions; safe from any thread once InitCrypto() has returned (call it once at start;
// it is idempotent). SHA-256 is OpenSSL's (SHA-NI accelerated); Ed25519 is libsodium's.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn {

using Hash = std::array<uint8_t, 32>;
constexpr size_t kPublicKeyBytes = 32;
constexpr size_t kSecretKeyBytes = 64;  // libsodium's seed || public key form
constexpr size_t kSignatureBytes = 64;

// Domain-separation prefixes: every signed or hashed byte string starts with one.
inline constexpr std::string_view kEventDomain = "cairn/event/v1\n";
inline constexpr std::string_view kCheckpointDomain = "cairn/checkpoint/v1\n";
inline constexpr std::string_view kRegistryDomain = "cairn/registry/v1\n";

// Initializes libsodium. Returns an error only if the library cannot start.
Status InitCrypto();

Hash Sha256(std::string_view data);
// SHA-256(a || b) without concatenating.
Hash Sha256Concat(std::string_view a, std::string_view b);
Hash Sha256Concat(std::string_view a, std::string_view b, std::string_view c);

std::string_view AsView(const Hash& h);
std::string HashToString(const Hash& h);  // 32 raw bytes

// Lowercase hex.
std::string ToHex(std::string_view bytes);
std::string ToHex(const Hash& h);
// Accepts upper or lower case; fails on odd length or a non-hex character.
Result<std::string> FromHex(std::string_view hex);
// True when `s` is exactly `n_bytes * 2` lowercase hex characters.
bool IsLowerHex(std::string_view s, size_t n_bytes);
// True when every character of `s` is 0-9 or a-f (any length, also odd).
bool IsLowerHexDigits(std::string_view s);

// Key id: lowercase hex of the first 16 bytes of SHA-256(public key).
std::string KeyIdOf(std::string_view public_key);

struct KeyPair {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes
};
KeyPair GenerateKeyPair();
// Derives the key pair from a 32-byte seed (for fixed-seed test keys).
Result<KeyPair> KeyPairFromSeed(std::string_view seed);

// Signs domain || message.
std::string Sign(std::string_view secret_key, std::string_view domain, std::string_view message);
// True when `signature` is a valid signature of domain || message by `public_key`.
bool Verify(std::string_view public_key, std::string_view domain, std::string_view message,
            std::string_view signature);

}  // namespace cairn
