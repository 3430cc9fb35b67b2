/* Minibatch discrimination (Salimans et al. 2016, section 3.2): the pairwise work in C.
 *
 * Built and loaded at run time by gan_lab/nets/minibatch_native.py (which also explains why and
 * how); the pure-PyTorch routes in gan_lab/nets/minibatch_routes.py compute the same thing.
 *
 * Layout: for each of `kernels` kernels b, `planes` holds M_{.,b} as `dim` coordinate planes of
 * `n` values each, x[c * n + i] = M_{i,b,c}, so the loops over the partners j read contiguous
 * memory and the compiler vectorises them.  Every pair {i, j} is visited once (j > i) and
 * credited to both rows; the self term is never formed, so o = 0 for a batch of one.
 *
 *   forward:  o_i  = sum_{j != i} c_ij,  c_ij = exp(-d_ij) if d_ij < max_l1 else exactly 0,
 *             d_ij = sum_c |x_ic - x_jc|;  c_ij (i < j) is also written to `table`, row by row
 *             (row i holds j = i + 1 .. n - 1, n (n - 1) / 2 values per kernel)
 *   backward: dL/dx_ic = -sum_{j != i} (g_i + g_j) c_ij sign(x_ic - x_jc),  g = dL/do,
 *             reading c_ij from the table (recomputing it instead made the backward 1.3x slower)
 *
 * The caller guarantees finite inputs: the file is compiled with -ffast-math, which lets the
 * compiler reorder the sums and call the vector exp of glibc's libmvec, but assumes no NaN or
 * infinity.  It is linked without -ffast-math so that loading it does not switch the whole
 * process to flush-to-zero arithmetic.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define DEFINE_KERNELS(T, EXP, ABS, SUFFIX)                                                         \
    /* d[j] = L1 distance between rows i and i + 1 + j of one kernel, for j < n - 1 - i. */         \
    static void distances_##SUFFIX(const T *restrict x, int64_t dim, int64_t n, int64_t i,          \
                                   T *restrict d) {                                                 \
        int64_t len = n - 1 - i;                                                                    \
        const T *restrict xj = x + i + 1;                                                           \
        T xi = x[i];                                                                                \
        for (int64_t j = 0; j < len; ++j) d[j] = ABS(xi - xj[j]);                                   \
        for (int64_t c = 1; c < dim; ++c) {                                                         \
            const T *restrict xc = xj + c * n;                                                      \
            xi = x[c * n + i];                                                                      \
            for (int64_t j = 0; j < len; ++j) d[j] += ABS(xi - xc[j]);                              \
        }                                                                                           \
    }                                                                                               \
                                                                                                    \
    /* o (kernels, n) and the table from planes (kernels, dim, n); 0, or 1 if out of memory. */     \
    int mbd_forward_##SUFFIX(const T *planes, T *o, T *table, int64_t kernels, int64_t dim,         \
                             int64_t n, T max_l1) {                                                 \
        T *d = malloc(sizeof(T) * (n > 1 ? n : 1));                                                 \
        if (!d) return 1;                                                                           \
        for (int64_t b = 0; b < kernels; ++b) {                                                     \
            const T *x = planes + b * dim * n;                                                      \
            T *ob = o + b * n;                                                                      \
            T *restrict tij = table + b * (n * (n - 1) / 2);                                        \
            for (int64_t i = 0; i < n; ++i) ob[i] = 0;                                              \
            for (int64_t i = 0; i + 1 < n; ++i) {                                                   \
                int64_t len = n - 1 - i;                                                            \
                T *restrict oj = ob + i + 1;                                                        \
                T row = 0;                                                                          \
                distances_##SUFFIX(x, dim, n, i, d);                                                \
                for (int64_t j = 0; j < len; ++j) {                                                 \
                    T closeness = d[j] < max_l1 ? EXP(-d[j]) : (T)0;                                \
                    tij[j] = closeness;                                                             \
                    row += closeness; /* the pair counts for row i ... */                           \
                    oj[j] += closeness; /* ... and for row j */                                     \
                }                                                                                   \
                ob[i] += row;                                                                       \
                tij += len;                                                                         \
            }                                                                                       \
        }                                                                                           \
        free(d);                                                                                    \
        return 0;                                                                                   \
    }                                                                                               \
                                                                                                    \
    /* grad (kernels, dim, n) from planes (kernels, dim, n), table and g = dL/do (kernels, n). */   \
    int mbd_backward_##SUFFIX(const T *planes, const T *table, const T *g, T *grad,                 \
                              int64_t kernels, int64_t dim, int64_t n) {                            \
        T *w = malloc(sizeof(T) * (n > 1 ? n : 1));                                                 \
        if (!w) return 1;                                                                           \
        for (int64_t b = 0; b < kernels; ++b) {                                                     \
            const T *x = planes + b * dim * n;                                                      \
            const T *gb = g + b * n;                                                                \
            T *gr = grad + b * dim * n;                                                             \
            const T *restrict tij = table + b * (n * (n - 1) / 2);                                  \
            for (int64_t k = 0; k < dim * n; ++k) gr[k] = 0;                                        \
            for (int64_t i = 0; i + 1 < n; ++i) {                                                   \
                int64_t len = n - 1 - i;                                                            \
                const T *restrict gj = gb + i + 1;                                                  \
                T gi = gb[i];                                                                       \
                /* w_ij = (g_i + g_j) c_ij: o_i and o_j both contain c_ij */                        \
                for (int64_t j = 0; j < len; ++j) w[j] = (gi + gj[j]) * tij[j];                     \
                tij += len;                                                                         \
                for (int64_t c = 0; c < dim; ++c) {                                                 \
                    const T *restrict xc = x + c * n + i + 1;                                       \
                    T *restrict grj = gr + c * n + i + 1;                                           \
                    T xi = x[c * n + i], row = 0;                                                   \
                    for (int64_t j = 0; j < len; ++j) {                                             \
                        /* sign(x_ic - x_jc), 0 for ties as in autograd's abs */                    \
                        T t = w[j] * (T)((xi > xc[j]) - (xi < xc[j]));                              \
                        row += t;                                                                   \
                        grj[j] += t; /* d|x_i - x_j|/dx_j = -sign(x_i - x_j), times -w */           \
                    }                                                                               \
                    gr[c * n + i] -= row;                                                           \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        free(w);                                                                                    \
        return 0;                                                                                   \
    }

DEFINE_KERNELS(float, expf, fabsf, f32)
DEFINE_KERNELS(double, exp, fabs, f64)
