// The addon's native CPU code without Node, against the TypeScript reference's results bit for bit:
// the HSF CPU path (src/hsf/hsf_cpu.cpp, gram_cpu.cpp) and the preprocessing kernels' host build
// (src/preprocess/pp_host.cpp, with pp_plan.cpp's PIL tap tables). Built for the host and, by
// cross-aarch64.sh, for aarch64 to run under qemu-user: there it checks the portable Gram loop and
// the build flags (-ffp-contract=off) that an Orin's CPU gets; and the fast CPU preprocessing
// (src/preprocess/pp_cpu.cpp, every kernel the machine runs) against both (pp_cpu_checks.h). Reads the dumps of
// test/helpers/hsf-dump.ts and test/helpers/preprocess-dump.ts.
//   native_cpu_test HSF_DIR [PREPROCESS_DIR]
// One line per check, "PASS ..." or "FAIL ..."; exit 0 when all pass, 1 on a failure, 2 when nothing
// could be read.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <filesystem>

#include "../src/hsf/hsf_cpu.h"
#include "../src/preprocess/pp_host.h"
#include "npy_reader.h"
#include "pp_cpu_checks.h"

namespace {

/** Elements whose bits differ (so -0 != +0 and NaN == NaN of the same payload). */
template <typename T>
size_t bitMismatches(const T* a, const T* b, size_t n) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += std::memcmp(a + i, b + i, sizeof(T)) != 0;
  return m;
}

int hsfCase(const std::string& dir, const std::string& name, int threads) {
  const std::string d = dir + "/" + name;
  Npy tok, u, t, labels, scores, fused, feature;
  int k = 0;
  double alpha = 0;
  std::ifstream p(d + "/params.txt");
  if (!p || !(p >> k >> alpha) || !readNpy(d + "/tokens.npy", &tok, "<f4") || !readNpy(d + "/u.npy", &u, "<f4") ||
      !readNpy(d + "/t.npy", &t, "<f4") || !readNpy(d + "/labels.npy", &labels, "<i4") ||
      !readNpy(d + "/scores.npy", &scores, "<f4") || !readNpy(d + "/fused.npy", &fused, "<f4") ||
      !readNpy(d + "/feature.npy", &feature, "<f4") || tok.shape.size() != 4) {
    return -1;
  }
  const int B = (int)tok.shape[0], K = (int)tok.shape[1], L = (int)tok.shape[2], D = (int)tok.shape[3];
  std::vector<float> gotScores(B), gotFused((size_t)B * D), gotFeature((size_t)B * D);
  std::vector<int32_t> gotLabels((size_t)B * K);
  std::vector<double> inertia(B);
  const hsf_cpu::Batch batch{tok.as<float>(), u.as<float>(), t.as<float>(), B, K, L, D, k, alpha};
  const hsf_cpu::Outputs out{gotScores.data(), gotFused.data(), gotFeature.data(), gotLabels.data(),
                             inertia.data()};
  std::string error;
  const HsfKMeansParams params = {4, 100, 0.0, 0x5eed, 1};  // DEFAULT_KMEANS of src/hsf/kmeans-gram.ts
  if (!hsf_cpu::runBatch(batch, params, threads, out, &error)) {
    std::printf("FAIL hsf %s x%d: %s\n", name.c_str(), threads, error.c_str());
    return 1;
  }
  const size_t ml = bitMismatches(gotLabels.data(), labels.as<int32_t>(), gotLabels.size());
  const size_t ms = bitMismatches(gotScores.data(), scores.as<float>(), gotScores.size());
  const size_t mu = bitMismatches(gotFused.data(), fused.as<float>(), gotFused.size());
  const size_t mf = bitMismatches(gotFeature.data(), feature.as<float>(), gotFeature.size());
  const bool ok = ml == 0 && ms == 0 && mu == 0 && mf == 0;
  std::printf("%s hsf %s x%d: B %d K %d L %d D %d k %d, kernel %s, differing labels %zu, scores %zu, u' %zu, f %zu\n",
              ok ? "PASS" : "FAIL", name.c_str(), threads, B, K, L, D, k, hsf_cpu::kernelName(), ml, ms, mu, mf);
  return ok ? 0 : 1;
}

int preprocessCase(const std::filesystem::path& d) {
  const std::string name = d.filename().string();
  Npy frame, want;
  std::ifstream v(d / "view.txt");
  pp::FrameInput in;
  int bgr = 1, size = 0;
  double mean[3], std[3];
  if (!v || !(v >> in.channels >> bgr >> in.rotate >> in.roiX >> in.roiY >> in.roiW >> in.roiH >> size) ||
      !(v >> mean[0] >> mean[1] >> mean[2] >> std[0] >> std[1] >> std[2]) ||
      !readNpy((d / "frame.npy").string(), &frame, "|u1") || !readNpy((d / "want.npy").string(), &want, "<f4") ||
      frame.shape.size() != 3) {
    std::printf("FAIL preprocess %s: unreadable dump\n", name.c_str());
    return 1;
  }
  in.height = (int)frame.shape[0];
  in.width = (int)frame.shape[1];
  in.stride = in.width * in.channels;
  in.bgr = bgr != 0;
  in.hasRoi = in.roiW > 0;
  in.data = reinterpret_cast<const uint8_t*>(frame.bytes.data());
  in.bytes = frame.bytes.size();
  pp::BatchPlan plan;
  std::string error;
  if (!pp::makePlan({in}, size, mean, std, &plan, &error)) {
    std::printf("FAIL preprocess %s: %s\n", name.c_str(), error.c_str());
    return 1;
  }
  std::vector<uint8_t> src(plan.srcBytes);
  pp::packSources({in}, plan, src.data());
  std::vector<float> got((size_t)3 * size * size);
  pp::runHost(plan, src.data(), false, got.data());
  const size_t m = got.size() == want.bytes.size() / 4 ? bitMismatches(got.data(), want.as<float>(), got.size()) : got.size();
  std::printf("%s preprocess %s: %dx%dx%d rotate %d -> %d, differing values %zu of %zu\n", m == 0 ? "PASS" : "FAIL",
              name.c_str(), in.width, in.height, in.channels, in.rotate, size, m, got.size());
  if (got.size() != want.bytes.size() / 4) return 1;
  return (m == 0 ? 0 : 1) + ppcheck::dumpedCase(name, in, size, mean, std, want.as<float>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s HSF_DIR [PREPROCESS_DIR]\n", argv[0]);
    return 2;
  }
  int failures = 0, ran = 0;
  for (const char* name : {"fixture_tiny_s126", "fixture_tiny_s154", "synthetic_b32"}) {
    for (int threads : {1, 3}) {
      const int r = hsfCase(argv[1], name, threads);
      if (r < 0) {
        std::printf("SKIP hsf %s: no dump\n", name);
        break;
      }
      failures += r;
      ran++;
    }
  }
  if (argc > 2) {
    std::vector<std::filesystem::path> dirs;
    for (const auto& e : std::filesystem::directory_iterator(argv[2]))
      if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      failures += preprocessCase(d);
      ran++;
    }
  }
  // the fast CPU preprocessing (pp_cpu.h) on random frames, against the host build of the kernels
  failures += ppcheck::randomFrames();
  ran++;
  if (ran == 0) return 2;
  return failures ? 1 : 0;
}
