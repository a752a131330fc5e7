// The CUDA intrinsics hsf_kernels.cuh uses, for its builds as plain C++ (hsf_cpu.cpp, and the
// emulation test): IEEE double operations with one rounding each, which holds because those files
// are built with -ffp-contract=off (no fused multiply-add), and the math functions it calls.
// Include it after <cmath>, in the namespace that then includes hsf_kernels.cuh.
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
using std::exp;
using std::floor;
using std::fmax;
using std::isfinite;
using std::log;
