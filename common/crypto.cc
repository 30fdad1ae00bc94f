#include "common/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <initializer_list>
#include <memory>

namespace cairn {

Status InitCrypto() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialize");
  return Status::Ok();
}

namespace {

struct DigestCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256 of the concatenation of `parts`, with one digest context per thread reused across
// calls: the Merkle and event-id paths hash millions of short inputs and should not allocate.
Hash Sha256Parts(std::initializer_list<std::string_view> parts) {
  thread_local const std::unique_ptr<EVP_MD_CTX, DigestCtxDeleter> ctx(EVP_MD_CTX_new());
  Hash out{};
  unsigned int len = 0;
  // Fetched once: EVP_sha256() would make OpenSSL 3 look the algorithm up (under a lock) on
  // every init, about a third of an inclusion proof's time.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_DigestInit_ex(ctx.get(), sha256 != nullptr ? sha256 : EVP_sha256(), nullptr);
  for (std::string_view part : parts) {
    if (!part.empty()) EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  }
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Hash Sha256(std::string_view data) { return Sha256Parts({data}); }

Hash Sha256Concat(std::string_view a, std::string_view b) { return Sha256Parts({a, b}); }

Hash Sha256Concat(std::string_view a, std::string_view b, std::string_view c) {
  return Sha256Parts({a, b, c});
}

std::string_view AsView(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

std::string HashToString(const Hash& h) { return std::string(AsView(h)); }

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

std::string ToHex(const Hash& h) { return ToHex(AsView(h)); }

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return InvalidArgument("hex string has odd length " + std::to_string(hex.size()));
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("not a hex character at position " +
                             std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

bool IsLowerHexDigits(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsLowerHex(std::string_view s, size_t n_bytes) {
  return s.size() == n_bytes * 2 && IsLowerHexDigits(s);
}

std::string KeyIdOf(std::string_view public_key) {
  const Hash h = Sha256(public_key);
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), 16));
}

KeyPair GenerateKeyPair() {
  KeyPair kp;
  kp.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  kp.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(kp.public_key.data()),
                      reinterpret_cast<unsigned char*>(kp.secret_key.data()));
  return kp;
}

Result<KeyPair> KeyPairFromSeed(std::string_view seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return InvalidArgument("seed: got " + std::to_string(seed.size()) + " bytes, want 32");
  }
  KeyPair kp;
  kp.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  kp.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(kp.public_key.data()),
                           reinterpret_cast<unsigned char*>(kp.secret_key.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return kp;
}

std::string Sign(std::string_view secret_key, std::string_view domain, std::string_view message) {
  std::string msg;
  msg.reserve(domain.size() + message.size());
  msg.append(domain).append(message);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  return sig;
}

bool Verify(std::string_view public_key, std::string_view domain, std::string_view message,
            std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  std::string msg;
  msg.reserve(domain.size() + message.size());
  msg.append(domain).append(message);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) ==
         0;
}

}  // namespace cairn
