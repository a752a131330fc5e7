// Reads the .npy files test/tools/hsf-dump-reference.ts writes (version 1.0, little-endian, C order),
// for the native HSF checks (hsf_gpu_test.cu, hsf_host_emulation.cpp).
#pragma once
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

struct Npy {
  std::vector<size_t> shape;
  std::vector<char> bytes;
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(bytes.data());
  }
};

/** False when the file is missing, or (descr given, e.g. "<f4") holds another dtype. */
inline bool readNpy(const std::string& path, Npy* out, const char* descr = nullptr) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  char pre[10];
  f.read(pre, 10);
  const uint16_t hlen = (uint8_t)pre[8] | ((uint8_t)pre[9] << 8);
  std::string header(hlen, ' ');
  f.read(&header[0], hlen);
  if (descr && header.find(descr) == std::string::npos) {
    std::fprintf(stderr, "%s: dtype is not %s\n", path.c_str(), descr);
    return false;
  }
  const size_t a = header.find('('), b = header.find(')');
  std::stringstream ss(header.substr(a + 1, b - a - 1));
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (tok.find_first_not_of(' ') != std::string::npos) out->shape.push_back(std::stoul(tok));
  out->bytes.assign(std::istreambuf_iterator<char>(f), {});
  return true;
}
