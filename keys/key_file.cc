// Ed25519 key files: writing (0600, optionally sealed) and reading them back with every field
// checked against the secret. Secret bytes, their hex and the passphrase never reach a message.
#include "keys/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/crypto.h"
#include "keys/file_descriptor.h"
#include "keys/registry.h"

namespace cairn::keys {
namespace {

using json = nlohmann::ordered_json;

// Key files are a few hundred bytes.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr const char* kKdfName = "argon2id13";
// Upper bounds accepted when reading a sealed file, so a crafted file cannot make us allocate
// gigabytes or spin for minutes.
constexpr unsigned long long kMaxOpsLimit = crypto_pwhash_OPSLIMIT_SENSITIVE * 4;
constexpr size_t kMaxMemLimit = crypto_pwhash_MEMLIMIT_SENSITIVE;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Overwrites a string that held secret material.
void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

// Wipes `*secret` when it goes out of scope. Declare it right after the string it guards, so it
// runs before that string is destroyed. "*secret" must outlive this object.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string* secret) : secret_(secret) {}
  ~WipeOnExit() { Wipe(*secret_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* const secret_;
};

// Wipes the "secret_key" member of a parsed or built key file document, if any.
void WipeSecretMember(json& doc) {
  if (!doc.is_object()) return;
  auto it = doc.find("secret_key");
  if (it != doc.end() && it->is_string()) Wipe(it->get_ref<std::string&>());
}

// Calls WipeSecretMember(*doc) when it goes out of scope; declare it right after the document.
class WipeDocOnExit {
 public:
  explicit WipeDocOnExit(json* doc) : doc_(doc) {}
  ~WipeDocOnExit() { WipeSecretMember(*doc_); }
  WipeDocOnExit(const WipeDocOnExit&) = delete;
  WipeDocOnExit& operator=(const WipeDocOnExit&) = delete;

 private:
  json* const doc_;
};

// Reads a small file whole. `what` names it in errors ("key file", "passphrase file").
Result<std::string> ReadSmallFile(const std::string& path, const char* what) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound(std::string(what) + " " + path + ": no such file");
    return Internal(std::string(what) + " " + path + ": " + ErrnoText());
  }
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      sodium_memzero(buf, sizeof(buf));
      Wipe(data);
      return Internal(std::string(what) + " " + path + ": " + ErrnoText());
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxKeyFileBytes) {
      sodium_memzero(buf, sizeof(buf));
      Wipe(data);
      return InvalidArgument(std::string(what) + " " + path + ": larger than 64 KiB");
    }
  }
  sodium_memzero(buf, sizeof(buf));
  return data;
}

// Creates `path` exclusively with `mode` and writes `data`, synced. On failure nothing is left.
Status CreateExclusive(const std::string& path, std::string_view data, mode_t mode,
                       const char* what) {
  FileDescriptor fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      return AlreadyExists(std::string(what) + " " + path + ": already exists; not overwriting it");
    }
    return Internal(std::string(what) + " " + path + ": " + ErrnoText());
  }
  auto fail = [&](const std::string& step) {
    const std::string reason = ErrnoText();
    ::unlink(path.c_str());
    return Internal(std::string(what) + " " + path + ": " + step + ": " + reason);
  };
  // The umask can only narrow `mode`; make sure it is exactly `mode` (0600 stays 0600).
  if (::fchmod(fd.get(), mode) != 0) return fail("chmod");
  std::string_view rest = data;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (!fd.Close()) return fail("close");
  return Status::Ok();
}

// Reads a string member; INVALID_ARGUMENT naming the member when it is missing or not a string.
Result<std::string> StringMember(const json& doc, const char* name, const std::string& where) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) {
    return InvalidArgument(where + ": \"" + name + "\" missing or not a string");
  }
  return it->get<std::string>();
}

// Decodes a hex member of exactly `n_bytes` bytes. The member's text is never quoted in errors.
Result<std::string> HexMember(const json& doc, const char* name, size_t n_bytes,
                              const std::string& where) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) {
    return InvalidArgument(where + ": \"" + name + "\" missing or not a string");
  }
  const std::string& hex = it->get_ref<const std::string&>();
  auto bytes = FromHex(hex);
  if (!bytes.ok() || bytes->size() != n_bytes) {
    return InvalidArgument(where + ": \"" + name + "\" is not " + std::to_string(n_bytes * 2) +
                           " hex characters");
  }
  return std::move(bytes).value();
}

struct PublicPart {
  std::string participant;
  std::string key_id;
  std::string public_key;
};

// Parses the members every key file and .pub file share and checks key_id against public_key.
Result<PublicPart> ParsePublicPart(const json& doc, const std::string& where) {
  if (!doc.is_object()) return InvalidArgument(where + ": not a JSON object");
  PublicPart part;
  CAIRN_ASSIGN_OR_RETURN(part.participant, StringMember(doc, "participant", where));
  CAIRN_ASSIGN_OR_RETURN(part.key_id, StringMember(doc, "key_id", where));
  CAIRN_ASSIGN_OR_RETURN(part.public_key, HexMember(doc, "public_key", kPublicKeyBytes, where));
  if (!IsValidParticipantId(part.participant)) {
    return InvalidArgument(where + ": participant \"" + part.participant +
                           "\" is not [a-z0-9-]{2,40}");
  }
  const std::string want = KeyIdOf(part.public_key);
  if (part.key_id != want) {
    return InvalidArgument(where + ": key_id " + part.key_id + " does not match public_key (" +
                           want + ")");
  }
  return part;
}

// Parses JSON without letting the parser's message (which may quote the text) escape.
Result<json> ParseJson(const std::string& text, const std::string& where) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(where + ": not valid JSON");
  return doc;
}

struct SealParams {
  unsigned long long opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  std::string salt;  // crypto_pwhash_SALTBYTES
};

// Derives the secretbox key from the passphrase. The caller wipes the result.
Result<std::string> DeriveKey(const std::string& passphrase, const SealParams& params) {
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  if (crypto_pwhash(MutableBytes(key), key.size(), passphrase.data(), passphrase.size(),
                    Bytes(params.salt), params.opslimit, params.memlimit,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    Wipe(key);
    return Internal("crypto_pwhash failed (out of memory?)");
  }
  return key;
}

Result<json> Seal(std::string_view secret_key, const std::string& passphrase) {
  SealParams params;
  params.salt.resize(crypto_pwhash_SALTBYTES);
  randombytes_buf(MutableBytes(params.salt), params.salt.size());
  std::string nonce(crypto_secretbox_NONCEBYTES, '\0');
  randombytes_buf(MutableBytes(nonce), nonce.size());
  CAIRN_ASSIGN_OR_RETURN(std::string key, DeriveKey(passphrase, params));
  WipeOnExit wipe_key(&key);
  std::string ciphertext(secret_key.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(MutableBytes(ciphertext), Bytes(secret_key), secret_key.size(),
                        Bytes(nonce), Bytes(key));
  return json{{"kdf", kKdfName},
              {"opslimit", params.opslimit},
              {"memlimit", params.memlimit},
              {"salt", ToHex(params.salt)},
              {"nonce", ToHex(nonce)},
              {"ciphertext", ToHex(ciphertext)}};
}

Result<std::string> Unseal(const json& sealed, const std::string& passphrase,
                           const std::string& where) {
  if (!sealed.is_object()) return InvalidArgument(where + ": \"sealed\" is not an object");
  CAIRN_ASSIGN_OR_RETURN(std::string kdf, StringMember(sealed, "kdf", where + ": sealed"));
  if (kdf != kKdfName) {
    return InvalidArgument(where + ": sealed.kdf \"" + kdf + "\" unsupported, want " + kKdfName);
  }
  SealParams params;
  auto ops = sealed.find("opslimit");
  auto mem = sealed.find("memlimit");
  if (ops == sealed.end() || !ops->is_number_unsigned() || mem == sealed.end() ||
      !mem->is_number_unsigned()) {
    return InvalidArgument(where + ": sealed.opslimit and sealed.memlimit must be numbers");
  }
  params.opslimit = ops->get<unsigned long long>();
  params.memlimit = mem->get<size_t>();
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > kMaxOpsLimit ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > kMaxMemLimit) {
    return InvalidArgument(where + ": sealed.opslimit " + std::to_string(params.opslimit) +
                           " / memlimit " + std::to_string(params.memlimit) +
                           " outside the accepted range");
  }
  CAIRN_ASSIGN_OR_RETURN(params.salt,
                         HexMember(sealed, "salt", crypto_pwhash_SALTBYTES, where + ": sealed"));
  CAIRN_ASSIGN_OR_RETURN(std::string nonce, HexMember(sealed, "nonce", crypto_secretbox_NONCEBYTES,
                                                      where + ": sealed"));
  CAIRN_ASSIGN_OR_RETURN(
      std::string ciphertext,
      HexMember(sealed, "ciphertext", kSecretKeyBytes + crypto_secretbox_MACBYTES,
                where + ": sealed"));
  CAIRN_ASSIGN_OR_RETURN(std::string key, DeriveKey(passphrase, params));
  WipeOnExit wipe_key(&key);
  std::string secret(kSecretKeyBytes, '\0');
  if (crypto_secretbox_open_easy(MutableBytes(secret), Bytes(ciphertext), ciphertext.size(),
                                 Bytes(nonce), Bytes(key)) != 0) {
    Wipe(secret);
    return PermissionDenied(where + ": wrong passphrase");
  }
  return secret;
}

}  // namespace

Status WriteKeyFiles(const std::string& dir, const SigningKey& key,
                     const std::optional<std::string>& passphrase) {
  if (!IsValidParticipantId(key.participant)) {
    return InvalidArgument("participant: got \"" + key.participant + "\", want [a-z0-9-]{2,40}");
  }
  if (key.public_key.size() != kPublicKeyBytes || key.secret_key.size() != kSecretKeyBytes) {
    return InvalidArgument("key of " + key.participant + ": want a 32-byte public key and a " +
                           "64-byte secret key");
  }
  if (key.key_id != KeyIdOf(key.public_key)) {
    return InvalidArgument("key of " + key.participant + ": key_id " + key.key_id +
                           " does not match the public key");
  }
  if (std::string_view(key.secret_key).substr(32) != key.public_key) {
    return InvalidArgument("key of " + key.participant +
                           ": secret key does not belong to the public key");
  }
  if (passphrase.has_value() && passphrase->empty()) {
    return InvalidArgument("passphrase: empty; omit it to write an unsealed key file");
  }
  const std::string key_path = dir + "/" + key.participant + ".key";
  const std::string pub_path = dir + "/" + key.participant + ".pub";

  std::error_code ec;
  const bool created_dir = std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("key directory " + dir + ": " + ec.message());
  // A directory made for keys is the owner's alone.
  if (created_dir) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  for (const std::string* path : {&key_path, &pub_path}) {
    if (std::filesystem::exists(std::filesystem::symlink_status(*path))) {
      return AlreadyExists("key file " + *path + ": already exists; not overwriting it");
    }
  }

  json pub_doc = {{"participant", key.participant},
                  {"key_id", key.key_id},
                  {"public_key", ToHex(key.public_key)}};
  json key_doc = pub_doc;
  WipeDocOnExit wipe_doc(&key_doc);
  if (passphrase.has_value()) {
    CAIRN_ASSIGN_OR_RETURN(key_doc["sealed"], Seal(key.secret_key, *passphrase));
  } else {
    key_doc["secret_key"] = ToHex(key.secret_key);
  }
  std::string key_text = key_doc.dump(2) + "\n";
  WipeOnExit wipe_text(&key_text);
  const std::string pub_text = pub_doc.dump(2) + "\n";

  CAIRN_RETURN_IF_ERROR(CreateExclusive(key_path, key_text, 0600, "key file"));
  if (Status s = CreateExclusive(pub_path, pub_text, 0644, "public key file"); !s.ok()) {
    ::unlink(key_path.c_str());
    return s;
  }
  FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  return Status::Ok();
}

Result<SigningKey> ReadSigningKey(const std::string& path,
                                  const std::optional<std::string>& passphrase) {
  const std::string where = "key file " + path;
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "key file"));
  WipeOnExit wipe_text(&text);
  CAIRN_ASSIGN_OR_RETURN(json doc, ParseJson(text, where));
  WipeDocOnExit wipe_doc(&doc);
  CAIRN_ASSIGN_OR_RETURN(PublicPart part, ParsePublicPart(doc, where));

  SigningKey key;
  key.participant = std::move(part.participant);
  key.key_id = std::move(part.key_id);
  key.public_key = std::move(part.public_key);
  auto secret_it = doc.find("secret_key");
  auto sealed_it = doc.find("sealed");
  if ((secret_it != doc.end()) == (sealed_it != doc.end())) {
    return InvalidArgument(where + ": want exactly one of \"secret_key\" and \"sealed\"" +
                           (secret_it == doc.end() ? " (is this a .pub file?)" : ""));
  }
  if (secret_it != doc.end()) {
    CAIRN_ASSIGN_OR_RETURN(key.secret_key, HexMember(doc, "secret_key", kSecretKeyBytes, where));
  } else {
    if (!passphrase.has_value()) {
      return PermissionDenied(where + ": sealed with a passphrase, and none was given");
    }
    CAIRN_ASSIGN_OR_RETURN(key.secret_key, Unseal(*sealed_it, *passphrase, where));
  }
  // The secret is libsodium's seed || public key: derive the public key from the seed rather than
  // trusting the copy, so a file whose halves disagree is caught here and not at the first
  // signature that fails to verify.
  std::string derived_public(kPublicKeyBytes, '\0');
  std::string derived_secret(kSecretKeyBytes, '\0');
  WipeOnExit wipe_derived(&derived_secret);
  crypto_sign_seed_keypair(MutableBytes(derived_public), MutableBytes(derived_secret),
                           Bytes(key.secret_key));
  if (derived_public != key.public_key || derived_secret != key.secret_key) {
    Wipe(key.secret_key);
    return DataLoss(where + ": the secret key does not belong to public_key " + key.key_id);
  }
  return key;
}

Result<PublicKeyFile> ReadPublicKey(const std::string& path) {
  const std::string where = "public key file " + path;
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "public key file"));
  WipeOnExit wipe_text(&text);  // it may be an ID.key
  CAIRN_ASSIGN_OR_RETURN(json doc, ParseJson(text, where));
  WipeDocOnExit wipe_doc(&doc);
  CAIRN_ASSIGN_OR_RETURN(PublicPart part, ParsePublicPart(doc, where));
  return PublicKeyFile{std::move(part.participant), std::move(part.key_id),
                       std::move(part.public_key)};
}

Result<std::string> ReadPassphraseFile(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "passphrase file"));
  std::string line = text.substr(0, text.find('\n'));
  Wipe(text);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return InvalidArgument("passphrase file " + path + ": the first line is empty");
  }
  return line;
}

void WipeSecret(SigningKey* key) { Wipe(key->secret_key); }

}  // namespace cairn::keys
