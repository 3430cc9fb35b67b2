/* Minibatch discrimination (Salimans et al. 2016, section 3.2): the pairwise work in C.
 *
 * Built and loaded at run time by gan_lab/nets/minibatch_native.py (which also explains why and
 * how); the pure-PyTorch routes in gan_lab/nets/minibatch_routes.py compute the same thing.
 *
 * Layout: for each of `kernels` kernels b, `planes` holds M_{.,b} as `dim` coordinate planes of
 * `n` values each, x[c * n + i] = M_{i,b,c}, so the loops over the partners j read contiguous
 * memory.  Every pair {i, j} is visited once (j > i) and credited to both rows; the self term is
 * never formed, so o = 0 for a batch of one.
 *
 *   forward:  o_i  = sum_{j != i} c_ij,  c_ij = exp(-d_ij) if d_ij < max_l1 else exactly 0,
 *             d_ij = sum_c |x_ic - x_jc|
 *   backward: dL/dx_ic = -sum_{j != i} (g_i + g_j) c_ij sign(x_ic - x_jc),  g = dL/do
 *
 * The backward recomputes c_ij rather than reading a table kept by the forward: a table of all
 * pairs is B N (N - 1) / 2 floats (13 MB at N = 256), which leaves the cache and, allocated anew
 * at each call, costs a page fault per 4 KB; recomputing costs a few vector operations per pair.
 *
 * Two implementations of the same formulas:
 *   - float32 with 1 <= dim <= 8 (the layer's usual kernel_dim is 5): written with GCC/Clang
 *     vector extensions, 8 partners j per vector, two rows i at a time, the coordinates
 *     unrolled, and exp(-d) inlined (exp_neg_v below).  Portable C: on a CPU without 256-bit
 *     vectors the compiler splits the vectors.
 *   - anything else (float64, other dims): plain loops that the compiler vectorises, with libm's
 *     exp.  float64 is what the self-check and the float64 tests use.
 *
 * The caller guarantees finite inputs: the file is compiled with -ffast-math, which lets the
 * compiler reorder the sums and call the vector exp of glibc's libmvec, but assumes no NaN or
 * infinity.  It is linked without -ffast-math so that loading it does not switch the whole
 * process to flush-to-zero arithmetic.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Plain loops: any dim, float32 and float64.
 * ------------------------------------------------------------------------------------------- */

#define DEFINE_KERNELS(T, EXP, ABS, SUFFIX)                                                         \
    /* c[j] = closeness of rows i and i + 1 + j of one kernel, for j < n - 1 - i. */                \
    static void closeness_row_##SUFFIX(const T *restrict x, int64_t dim, int64_t n, int64_t i,      \
                                       T max_l1, T *restrict c) {                                   \
        int64_t len = n - 1 - i;                                                                    \
        const T *restrict xj = x + i + 1;                                                           \
        T xi = x[i];                                                                                \
        for (int64_t j = 0; j < len; ++j) c[j] = ABS(xi - xj[j]);                                   \
        for (int64_t k = 1; k < dim; ++k) {                                                         \
            const T *restrict xc = xj + k * n;                                                      \
            xi = x[k * n + i];                                                                      \
            for (int64_t j = 0; j < len; ++j) c[j] += ABS(xi - xc[j]);                              \
        }                                                                                           \
        for (int64_t j = 0; j < len; ++j) c[j] = c[j] < max_l1 ? EXP(-c[j]) : (T)0;                 \
    }                                                                                               \
                                                                                                    \
    static int forward_loops_##SUFFIX(const T *planes, T *o, int64_t kernels, int64_t dim,          \
                                      int64_t n, T max_l1) {                                        \
        T *c = malloc(sizeof(T) * (n > 1 ? n : 1));                                                 \
        if (!c) return 1;                                                                           \
        for (int64_t b = 0; b < kernels; ++b) {                                                     \
            const T *x = planes + b * dim * n;                                                      \
            T *ob = o + b * n;                                                                      \
            for (int64_t i = 0; i < n; ++i) ob[i] = 0;                                              \
            for (int64_t i = 0; i + 1 < n; ++i) {                                                   \
                int64_t len = n - 1 - i;                                                            \
                T *restrict oj = ob + i + 1;                                                        \
                T row = 0;                                                                          \
                closeness_row_##SUFFIX(x, dim, n, i, max_l1, c);                                    \
                for (int64_t j = 0; j < len; ++j) {                                                 \
                    row += c[j]; /* the pair counts for row i ... */                                \
                    oj[j] += c[j]; /* ... and for row j */                                          \
                }                                                                                   \
                ob[i] += row;                                                                       \
            }                                                                                       \
        }                                                                                           \
        free(c);                                                                                    \
        return 0;                                                                                   \
    }                                                                                               \
                                                                                                    \
    static int backward_loops_##SUFFIX(const T *planes, const T *g, T *grad, int64_t kernels,       \
                                       int64_t dim, int64_t n, T max_l1) {                          \
        T *w = malloc(sizeof(T) * (n > 1 ? n : 1));                                                 \
        if (!w) return 1;                                                                           \
        for (int64_t b = 0; b < kernels; ++b) {                                                     \
            const T *x = planes + b * dim * n;                                                      \
            const T *gb = g + b * n;                                                                \
            T *gr = grad + b * dim * n;                                                             \
            for (int64_t k = 0; k < dim * n; ++k) gr[k] = 0;                                        \
            for (int64_t i = 0; i + 1 < n; ++i) {                                                   \
                int64_t len = n - 1 - i;                                                            \
                const T *restrict gj = gb + i + 1;                                                  \
                T gi = gb[i];                                                                       \
                closeness_row_##SUFFIX(x, dim, n, i, max_l1, w);                                    \
                /* w_ij = (g_i + g_j) c_ij: o_i and o_j both contain c_ij */                        \
                for (int64_t j = 0; j < len; ++j) w[j] *= gi + gj[j];                               \
                for (int64_t k = 0; k < dim; ++k) {                                                 \
                    const T *restrict xc = x + k * n + i + 1;                                       \
                    T *restrict grj = gr + k * n + i + 1;                                           \
                    T xi = x[k * n + i], row = 0;                                                   \
                    for (int64_t j = 0; j < len; ++j) {                                             \
                        /* sign(x_ic - x_jc), 0 for ties as in autograd's abs */                    \
                        T t = w[j] * (T)((xi > xc[j]) - (xi < xc[j]));                              \
                        row += t;                                                                   \
                        grj[j] += t; /* d|x_i - x_j|/dx_j = -sign(x_i - x_j), times -w */           \
                    }                                                                               \
                    gr[k * n + i] -= row;                                                           \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        free(w);                                                                                    \
        return 0;                                                                                   \
    }

DEFINE_KERNELS(float, expf, fabsf, f32)
DEFINE_KERNELS(double, exp, fabs, f64)

/* ---------------------------------------------------------------------------------------------
 * float32, 1 <= dim <= 8: vectors of 8 partners (forward_vectors_f32, backward_vectors_f32).
 * ------------------------------------------------------------------------------------------- */

#include "minibatch_native_vectors.h"

/* ---------------------------------------------------------------------------------------------
 * Entry points (called through ctypes): 0, or 1 if a scratch buffer could not be allocated.
 *   forward:  o (kernels, n) from planes (kernels, dim, n)
 *   backward: grad (kernels, dim, n) from planes and g = dL/do (kernels, n)
 * The kernels are split into `threads` contiguous parts, one per OpenMP thread where the library
 * was built with OpenMP (see minibatch_native.py: PyTorch's own OpenMP threads run them), else
 * run here in one thread (the caller then splits them over its own threads).  Each kernel is
 * computed alone, so the split never changes a bit of the result.
 * ------------------------------------------------------------------------------------------- */

int mbd_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

#define SPLIT_KERNELS(CALL)                                                                         \
    int status = 0;                                                                                 \
    if (threads < 1) threads = 1;                                                                   \
    _Pragma("omp parallel for num_threads(threads) schedule(static) reduction(| : status) if (threads > 1)") \
    for (int part = 0; part < threads; ++part) {                                                    \
        int64_t start = kernels * part / threads, stop = kernels * (part + 1) / threads;           \
        if (stop > start) status |= CALL;                                                           \
    }                                                                                               \
    return status;

static int forward_f32(const float *planes, float *o, int64_t kernels, int64_t dim, int64_t n,
                       float max_l1) {
    if (dim >= 1 && dim <= MAX_VECTOR_DIM && max_l1 <= 87) return forward_vectors_f32(planes, o, kernels, (int)dim, n, max_l1);
    return forward_loops_f32(planes, o, kernels, dim, n, max_l1);
}

static int backward_f32(const float *planes, const float *g, float *grad, int64_t kernels,
                        int64_t dim, int64_t n, float max_l1) {
    if (dim >= 1 && dim <= MAX_VECTOR_DIM && max_l1 <= 87)
        return backward_vectors_f32(planes, g, grad, kernels, (int)dim, n, max_l1);
    return backward_loops_f32(planes, g, grad, kernels, dim, n, max_l1);
}

/* The exported pair for one type, each call split over the threads by SPLIT_KERNELS. */
#define DEFINE_ENTRY_POINTS(T, SUFFIX, FORWARD, BACKWARD)                                           \
    int mbd_forward_##SUFFIX(const T *planes, T *o, int64_t kernels, int64_t dim, int64_t n,        \
                             T max_l1, int threads) {                                               \
        SPLIT_KERNELS(FORWARD(planes + start * dim * n, o + start * n, stop - start, dim, n, max_l1)) \
    }                                                                                               \
                                                                                                    \
    int mbd_backward_##SUFFIX(const T *planes, const T *g, T *grad, int64_t kernels, int64_t dim,   \
                              int64_t n, T max_l1, int threads) {                                   \
        SPLIT_KERNELS(BACKWARD(planes + start * dim * n, g + start * n, grad + start * dim * n,     \
                               stop - start, dim, n, max_l1))                                       \
    }

DEFINE_ENTRY_POINTS(float, f32, forward_f32, backward_f32)
DEFINE_ENTRY_POINTS(double, f64, forward_loops_f64, backward_loops_f64)
