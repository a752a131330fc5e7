// See pp_cpu.h. The tap tables come from appendBicubicTaps (pp_plan.cpp, PIL's float64 arithmetic),
// the same tables the GPU kernels and their host build use; an axis that keeps its size gets the
// identity (PIL skips that pass: one tap of weight 2^22 gives the same bytes).
#include "preprocess/pp_cpu.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "preprocess/pp_cpu_rows.h"
#include "preprocess/pp_kernels.cuh"
#include "preprocess/pp_plan.h"

namespace pp {

bool cpuKernelRuns(CpuKernel k) {
  switch (k) {
    case CpuKernel::Portable:
      return true;
    case CpuKernel::Avx2:
#ifdef PP_CPU_X86
      return __builtin_cpu_supports("avx2");
#else
      return false;
#endif
    case CpuKernel::Neon:
#ifdef PP_CPU_NEON
      return true;
#else
      return false;
#endif
  }
  return false;
}

CpuKernel bestCpuKernel() {
  if (cpuKernelRuns(CpuKernel::Avx2)) return CpuKernel::Avx2;
  if (cpuKernelRuns(CpuKernel::Neon)) return CpuKernel::Neon;
  return CpuKernel::Portable;
}

const char* cpuKernelName(CpuKernel k) {
  switch (k) {
    case CpuKernel::Avx2:
      return "avx2";
    case CpuKernel::Neon:
      return "neon";
    default:
      return "portable";
  }
}

bool parseCpuKernel(const std::string& name, CpuKernel* k) {
  for (CpuKernel c : {CpuKernel::Portable, CpuKernel::Avx2, CpuKernel::Neon}) {
    if (name == cpuKernelName(c)) {
      *k = c;
      return true;
    }
  }
  return false;
}

namespace {

/** PIL's taps of one axis: start, count and coefficients (ksize per output). */
struct AxisTaps {
  int ksize = 1;
  std::vector<int32_t> start, count, coeffs;
};

AxisTaps axisTaps(int in, int out) {
  AxisTaps a;
  if (in == out) {
    a.start.resize(out);
    for (int i = 0; i < out; i++) a.start[i] = i;
    a.count.assign(out, 1);
    a.coeffs.assign(out, 1 << kPrecisionBits);
    return a;
  }
  std::vector<int32_t> table;
  appendBicubicTaps(in, out, &table);
  a.ksize = table[0];
  a.start.assign(table.begin() + 1, table.begin() + 1 + out);
  a.count.assign(table.begin() + 1 + out, table.begin() + 1 + 2 * out);
  a.coeffs.assign(table.begin() + 1 + 2 * out, table.end());
  return a;
}

/** Runs fn(part) for parts 0..n-1: part 0 on the calling thread, the others on kept threads. */
class BandPool {
 public:
  explicit BandPool(int helpers) {
    for (int i = 0; i < helpers; i++) threads_.emplace_back([this, i] { loop(i + 1); });
  }
  ~BandPool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void run(const std::function<void(int)>& fn) {
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &fn;
      pending_ = (int)threads_.size();
      gen_++;
    }
    start_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(int part) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return stop_ || gen_ != seen; });
        if (stop_) return;
        seen = gen_;
        job = job_;
      }
      (*job)(part);
      std::lock_guard<std::mutex> lock(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::mutex m_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* job_ = nullptr;
  uint64_t gen_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

struct CpuResizer::Impl {
  int S = 0;
  CpuKernel kernel = CpuKernel::Portable;
  // horizontal
  std::vector<int32_t> hOffset, hCount, hCoeffs;
  std::vector<int16_t> hPacked;
  HorizontalTaps h;
  // vertical
  AxisTaps v;
  int vMax = 0;        // the widest window: rows held per channel
  std::vector<int32_t> vPairs;  // per output row, per pair of taps: low halves, high halves
  int pairStride = 0;  // int32 per output row in vPairs
  Normalise nm[3]{};
  int planeStride = 0;
  /** One thread's share: output rows [y0, y1), its ring of source rows and scratch. */
  struct Band {
    int y0 = 0, y1 = 0;
    std::vector<uint8_t> ring;  // [3 channels][vMax rows][planeStride]
    std::vector<int32_t> acc;   // S, for the portable vertical kernel
    std::vector<const uint8_t*> rows;  // 3 * vMax row pointers
    std::vector<uint8_t> tail;  // the end of a source row, zero padded (SIMD kernels)
  };
  std::vector<Band> bands;
  std::unique_ptr<BandPool> pool;

  void horizontalRow(const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2, uint8_t* tail) const {
#ifdef PP_CPU_X86
    if (kernel == CpuKernel::Avx2) return horizontalAvx2(h, src, d0, d1, d2, tail);
#endif
#ifdef PP_CPU_NEON
    if (kernel == CpuKernel::Neon) return horizontalNeon(h, src, d0, d1, d2, tail);
#endif
    horizontalPortable(h, src, d0, d1, d2, 0, S);
  }

  void verticalRow(const VerticalRow& row, Normalise n, int32_t* acc, float* out) const {
#ifdef PP_CPU_X86
    if (kernel == CpuKernel::Avx2 && S >= 32) return verticalAvx2(row, S, n, out);
#endif
#ifdef PP_CPU_NEON
    if (kernel == CpuKernel::Neon && S >= 16) return verticalNeon(row, S, n, out);
#endif
    verticalPortable(row, S, n, acc, out);
  }

  void runBand(Band& b, const uint8_t* src, size_t stride, bool bgr, float* out) const {
    if (b.y0 >= b.y1) return;
    const size_t planeBytes = (size_t)vMax * planeStride;
    int next = v.start[b.y0];  // the next source row the horizontal pass makes
    for (int y = b.y0; y < b.y1; y++) {
      const int first = v.start[y], n = v.count[y];
      for (; next < first + n; next++) {
        uint8_t* slot = b.ring.data() + (size_t)(next % vMax) * planeStride;
        horizontalRow(src + (size_t)next * stride, slot, slot + planeBytes, slot + 2 * planeBytes, b.tail.data());
      }
      for (int j = 0, slot = first % vMax; j < n; j++, slot = slot + 1 == vMax ? 0 : slot + 1) {
        for (int c = 0; c < 3; c++) b.rows[c * vMax + j] = b.ring.data() + c * planeBytes + (size_t)slot * planeStride;
      }
      const int32_t* k = v.coeffs.data() + (size_t)y * v.ksize;
      const int32_t* pairs = vPairs.data() + (size_t)y * pairStride;
      for (int p = 0; p < 3; p++) {
        const int c = bgr ? 2 - p : p;  // the source channel that lands in RGB plane p
        const VerticalRow row{b.rows.data() + c * vMax, k, n, pairs};
        verticalRow(row, nm[p], b.acc.data(), out + (size_t)p * S * S + (size_t)y * S);
      }
    }
  }
};

CpuResizer::CpuResizer(int inWidth, int inHeight, int size, const float mean[3], const float std[3], int threads,
                       CpuKernel kernel)
    : inWidth_(inWidth), inHeight_(inHeight), size_(size), threads_(threads), kernel_(kernel) {
  if (inWidth < 1 || inHeight < 1 || size < 1 || size > 8192 || inWidth > (1 << 20) || inHeight > (1 << 20)) {
    throw std::invalid_argument("preprocess: sizes must be positive (size at most 8192), got " +
                                std::to_string(inWidth) + "x" + std::to_string(inHeight) + " -> " +
                                std::to_string(size));
  }
  if (threads < 1 || threads > 64) {
    throw std::invalid_argument("preprocess: threads must be in 1..64, got " + std::to_string(threads));
  }
  if (!cpuKernelRuns(kernel)) {
    throw std::invalid_argument(std::string("preprocess: the ") + cpuKernelName(kernel) +
                                " kernel does not run on this machine");
  }
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  const int S = m.S = size;
  m.kernel = kernel;
  for (int c = 0; c < 3; c++) m.nm[c] = {mean[c], std[c]};

  // horizontal: offsets, zero-padded coefficients per group of 4 taps, the AVX2 int16 halves
  const AxisTaps h = axisTaps(inWidth, S);
  int widest = 0;
  for (int x = 0; x < S; x++) widest = std::max(widest, h.count[x]);
  const int quads = (widest + 3) / 4;
  m.hOffset.resize(S);
  m.hCount = h.count;
  m.hCoeffs.assign((size_t)S * quads * 4, 0);
  m.hPacked.assign((size_t)S * quads * 32, 0);
  int simdEnd = S;
  for (int x = 0; x < S; x++) {
    m.hOffset[x] = h.start[x] * 3;
    for (int j = 0; j < h.count[x]; j++) m.hCoeffs[(size_t)x * quads * 4 + j] = h.coeffs[(size_t)x * h.ksize + j];
    for (int q = 0; q < quads; q++) {
      int16_t* lo = m.hPacked.data() + ((size_t)x * quads + q) * 32;
      int16_t* hi = lo + 16;
      for (int t = 0; t < 4; t++) {
        const int32_t k = m.hCoeffs[(size_t)x * quads * 4 + q * 4 + t];
        const int lane = t / 2 * 8, pos = t % 2;
        for (int c = 0; c < 3; c++) {
          lo[lane + c * 2 + pos] = (int16_t)(k & 0x7fff);
          hi[lane + c * 2 + pos] = (int16_t)(k >> 15);
        }
      }
    }
    // the SIMD kernels read 16 bytes per group of taps from the window start
    if (simdEnd == S && m.hOffset[x] + 12 * (quads - 1) + 16 > inWidth * 3) simdEnd = x;
  }
  m.h.S = S;
  m.h.inWidth = inWidth;
  m.h.quads = quads;
  m.h.offset = m.hOffset.data();
  m.h.count = m.hCount.data();
  m.h.coeffs = m.hCoeffs.data();
  m.h.packed = m.hPacked.data();
  m.h.simdEnd = simdEnd;
  m.h.tailFrom = simdEnd < S ? m.hOffset[simdEnd] : 0;
  m.h.tailBytes = simdEnd < S ? m.hOffset[S - 1] - m.h.tailFrom + 12 * (quads - 1) + 16 : 0;

  // vertical: PIL's taps and their pairs of int16 halves
  m.v = axisTaps(inHeight, S);
  for (int y = 0; y < S; y++) m.vMax = std::max(m.vMax, m.v.count[y]);
  m.pairStride = (m.vMax + 1) / 2 * 2;
  m.vPairs.assign((size_t)S * m.pairStride, 0);
  for (int y = 0; y < S; y++) {
    const int32_t* k = m.v.coeffs.data() + (size_t)y * m.v.ksize;
    const int n = m.v.count[y];
    for (int j = 0; j < n; j += 2) {
      const int32_t k0 = k[j], k1 = j + 1 < n ? k[j + 1] : 0;
      int32_t* pair = m.vPairs.data() + (size_t)y * m.pairStride + j;
      pair[0] = (int32_t)((uint32_t)(k0 & 0x7fff) | (uint32_t)(k1 & 0x7fff) << 16);
      pair[1] = (int32_t)((uint32_t)((k0 >> 15) & 0xffff) | (uint32_t)(k1 >> 15) << 16);
    }
  }

  // bands of output rows, one per thread
  m.planeStride = (S + 63) / 64 * 64;
  const int parts = std::min(threads, S);
  m.bands.resize(parts);
  for (int i = 0; i < parts; i++) {
    Impl::Band& b = m.bands[i];
    b.y0 = (int)((int64_t)S * i / parts);
    b.y1 = (int)((int64_t)S * (i + 1) / parts);
    b.ring.assign((size_t)3 * m.vMax * m.planeStride, 0);
    b.acc.resize(S);
    b.rows.resize((size_t)3 * m.vMax);
    b.tail.assign(m.h.tailBytes, 0);
  }
  if (parts > 1) m.pool = std::make_unique<BandPool>(parts - 1);
}

CpuResizer::~CpuResizer() = default;

void CpuResizer::run(const uint8_t* src, size_t stride, bool bgr, float* out) {
  Impl& m = *impl_;
  if (!m.pool) return m.runBand(m.bands[0], src, stride, bgr, out);
  const std::function<void(int)> job = [&](int part) { m.runBand(m.bands[part], src, stride, bgr, out); };
  m.pool->run(job);
}

}  // namespace pp
