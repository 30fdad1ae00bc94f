// Ed25519 key files.
//
// `ID.key` holds a participant's (or a node's) secret key, written 0600; when a passphrase is given
// the secret is sealed with libsodium crypto_pwhash (Argon2id) + crypto_secretbox. `ID.pub` holds
// the public key. Both are small JSON documents:
//   ID.pub: {"participant": "pk-fwo", "key_id": "<32 hex>", "public_key": "<64 hex>"}
//   ID.key: {"participant": ..., "key_id": ..., "public_key": ..., "secret_key": "<128 hex>"}
//        or {"participant": ..., "key_id": ..., "public_key": ...,
//            "sealed": {"kdf": "argon2id13", "opslimit": N, "memlimit": N, "salt": hex,
//                       "nonce": hex, "ciphertext": hex}}
// Secret bytes never appear in errors or logs.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace cairn::keys {

struct SigningKey {
  std::string participant;  // participant id (or log id for a node key)
  std::string key_id;
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 64 raw bytes (libsodium form)
};

struct PublicKeyFile {
  std::string participant;
  std::string key_id;
  std::string public_key;  // 32 raw bytes
};

// Writes DIR/ID.key (0600, sealed when `passphrase` is set) and DIR/ID.pub. Refuses to overwrite
// an existing key file (ALREADY_EXISTS).
Status WriteKeyFiles(const std::string& dir, const SigningKey& key,
                     const std::optional<std::string>& passphrase);

// Reads a key file; a sealed file needs the passphrase (PERMISSION_DENIED when it is wrong or
// missing, naming the file, never the secret).
Result<SigningKey> ReadSigningKey(const std::string& path,
                                  const std::optional<std::string>& passphrase);

// Reads ID.pub (or the public part of ID.key).
Result<PublicKeyFile> ReadPublicKey(const std::string& path);

// Reads a passphrase file: its first line, without the newline.
Result<std::string> ReadPassphraseFile(const std::string& path);

// Overwrites the secret key's bytes (sodium_memzero) and clears it; call when done signing.
void WipeSecret(SigningKey* key);

}  // namespace cairn::keys
