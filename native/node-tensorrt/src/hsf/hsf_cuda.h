/* HSF (Hybrid Semantic Fusion) on the GPU: plain C API over the CUDA kernels in hsf_cuda.cu.
 * The algorithm and its floating-point operation order are those of the TypeScript reference
 * (src/hsf/gram.ts, kmeans-gram.ts, fusion.ts), so the cluster labels are identical to the CPU's and
 * the scores agree to float rounding. All pointers are device pointers; every call is asynchronous
 * on `stream` (a cudaStream_t, NULL = default stream). Returns 0 on success, else a nonzero code
 * with a message from hsf_last_error(). */
#ifndef HSF_CUDA_H
#define HSF_CUDA_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HsfKMeansParams {
  int n_init;    /* k-means++ initialisations, best inertia kept (TS default 4) */
  int max_iter;  /* Lloyd reassignments and Hartigan passes per init (100) */
  double tol;    /* stop when the inertia drop <= tol * inertia (0) */
  uint32_t seed; /* base seed of the Mulberry32 streams (0x5eed) */
  int hartigan;  /* 1: Hartigan single-row moves after Lloyd (1) */
} HsfKMeansParams;

/* The TypeScript defaults (DEFAULT_KMEANS in src/hsf/kmeans-gram.ts). */
HsfKMeansParams hsf_default_params(void);

/* Largest K the kernel accepts (its Gram matrix lives in shared memory). */
int hsf_max_top_k(void);

/* One batch: tokens [B,K,L,D] (selected, in top-K order), u [B,D], t [B,2,D] (normal, abnormal).
 * tokens_half != 0: the three inputs are IEEE float16 (uint16_t) instead of float32.
 * Outputs (any may be NULL except scores): scores [B], fused u' [B,D], feature f [B,D],
 * labels [B,K], inertia [B]. alpha is a double because the reference fuses in float64 (0.2 != 0.2f).
 * An image with a non-finite token gets score NaN and inertia NaN (the CPU runner throws instead). */
int hsf_run_batch(const void* d_tokens, const void* d_u, const void* d_t, int tokens_half, int B, int K, int L,
                  int D, int k, double alpha, const HsfKMeansParams* params, float* d_scores, float* d_fused,
                  float* d_feature, int32_t* d_labels, double* d_inertia, void* stream);

/* When the engine outputs every patch token: per image, a = softmax over {normal, abnormal} of the
 * layer-mean logits 100 T_l.t, the K patches with the largest a (descending, lower index first on
 * ties) and their tokens. patch_tokens [B,L,N,D] float32, t [B,2,D]; out tokens [B,K,L,D],
 * indices [B,K]. */
int hsf_topk_gather(const float* d_patch_tokens, const float* d_t, int B, int L, int N, int D, int K,
                    float* d_tokens_out, int32_t* d_indices_out, void* stream);

const char* hsf_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
