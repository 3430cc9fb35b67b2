/* Minibatch discrimination's float32 kernels for 1 <= dim <= 8: hand-vectorised (GCC/Clang vector
 * extensions).  Included by minibatch_native.c, whose header comment gives the formulas, the layout
 * and the flags; kept apart so that each file holds one implementation.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 8
#define MAX_VECTOR_DIM 8
typedef float vf __attribute__((vector_size(4 * LANES)));
typedef int32_t vi __attribute__((vector_size(4 * LANES)));

static inline vf splat(float value) { return (vf){0} + value; }
static inline vf load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf abs_v(vf v) { return (vf)((vi)v & 0x7fffffff); }
static inline vf keep(vi mask, vf v) { return (vf)(mask & (vi)v); } /* v where mask, else +0 */

/* exp(-d) for 0 <= d < 87 (the callers' max_l1 is at most 87), to about 1 float32 ulp.
 * exp(-d) = 2^n 2^f with t = -d log2(e) = n + f, n = round(t), |f| <= 1/2; 2^f by a degree-6
 * polynomial fitted to 2^f on [-1/2, 1/2] for least relative error (iteratively reweighted least
 * squares on Chebyshev nodes): 2e-9 in exact arithmetic, 1e-7 evaluated in float32. */
static inline vf exp_neg_v(vf d) {
    vf t = d * -1.44269504088896341f;
    vi n = __builtin_convertvector(t - 0.5f, vi); /* t <= 0: truncation of t - 1/2 rounds t */
    vf f = t - __builtin_convertvector(n, vf);
    vf p = splat(1.5346970758400857e-4f);
    p = p * f + 1.3399941381067038e-3f;
    p = p * f + 9.618484415113926e-3f;
    p = p * f + 5.550328642129898e-2f;
    p = p * f + 2.4022646248340607e-1f;
    p = p * f + 6.931471824645996e-1f;
    p = p * f + 1.0f;
    return p * (vf)((n + 127) << 23); /* 2^n from its exponent bits: n >= -126 where d < 87 */
}

/* The closeness of two rows (coordinates xa, xb) to the 8 rows of x starting at column j (row
 * length np).  Two rows at a time share the loads of x_j and give the CPU two independent exp
 * chains to overlap. */
static inline __attribute__((always_inline)) void closeness_v(const float *x, int64_t np, int64_t j,
                                                                const vf *xa, const vf *xb, int dim,
                                                                vf max_l1, vf *ca, vf *cb) {
    vf da = splat(0.0f), db = splat(0.0f);
    for (int k = 0; k < dim; ++k) {
        vf xj = load(x + k * np + j);
        da += abs_v(xa[k] - xj);
        db += abs_v(xb[k] - xj);
    }
    vi near_a = da < max_l1, near_b = db < max_l1;
    *ca = keep(near_a, exp_neg_v(keep(near_a, da))); /* far lanes see exp(-0): nothing to overflow */
    *cb = keep(near_b, exp_neg_v(keep(near_b, db)));
}

/* The lanes of the vector at the row's own block that hold partners j > i (i = block + r). */
static inline vi after(int64_t r) {
    const vi lane = {0, 1, 2, 3, 4, 5, 6, 7};
    return lane > (int32_t)r;
}

static inline float sum_v(vf v) {
    float s = 0;
    for (int l = 0; l < LANES; ++l) s += v[l];
    return s;
}

/* One kernel's rows, copied into (dim, np) planes, so that every row is a whole number of
 * vectors.  The padding rows sit at 2 max|x| + max_l1 + 1 in every coordinate: farther than
 * max_l1 from every real row, so their pairs with real rows are masked to exactly 0. */
static void pad_planes(const float *x, float *xp, int dim, int64_t n, int64_t np, float max_l1) {
    float largest = 0;
    for (int64_t k = 0; k < dim * n; ++k) largest = fabsf(x[k]) > largest ? fabsf(x[k]) : largest;
    float far = 2 * largest + max_l1 + 1;
    for (int k = 0; k < dim; ++k) {
        memcpy(xp + k * np, x + k * n, sizeof(float) * n);
        for (int64_t j = n; j < np; ++j) xp[k * np + j] = far;
    }
}

/* Rows are taken in pairs a = i, b = i + 1 (the same block of 8, as i is even).  For odd n the
 * last b is the first padding row: far from every real row, so it adds exactly 0 to them, and
 * what it gets itself is never read. */
static inline __attribute__((always_inline)) void forward_kernel_v(const float *x, float *o,
                                                                     float *acc, int dim,
                                                                     int64_t n, int64_t np,
                                                                     float max_l1) {
    vf limit = splat(max_l1), xa[MAX_VECTOR_DIM], xb[MAX_VECTOR_DIM], ca, cb;
    memset(acc, 0, sizeof(float) * np); /* acc[j]: sum over the rows i < j */
    for (int64_t i = 0; i < n; i += 2) {
        int64_t block = i & ~(int64_t)(LANES - 1);
        for (int k = 0; k < dim; ++k) xa[k] = splat(x[k * np + i]), xb[k] = splat(x[k * np + i + 1]);
        closeness_v(x, np, block, xa, xb, dim, limit, &ca, &cb);
        ca = keep(after(i - block), ca), cb = keep(after(i + 1 - block), cb);
        vf row_a = ca, row_b = cb;
        store(acc + block, load(acc + block) + (ca + cb));
        for (int64_t j = block + LANES; j < np; j += LANES) {
            closeness_v(x, np, j, xa, xb, dim, limit, &ca, &cb);
            row_a += ca, row_b += cb;
            store(acc + j, load(acc + j) + (ca + cb));
        }
        /* acc[i], acc[i + 1] are final: all rows before them are done (c_{i,i+1} is in row_a's share) */
        o[i] = sum_v(row_a) + acc[i];
        if (i + 1 < n) o[i + 1] = sum_v(row_b) + acc[i + 1];
    }
}

static inline __attribute__((always_inline)) void backward_kernel_v(const float *x, const float *g,
                                                                      float *grad, float *acc,
                                                                      float *wa, float *wb, int dim,
                                                                      int64_t n, int64_t np,
                                                                      float max_l1) {
    vf limit = splat(max_l1), xa[MAX_VECTOR_DIM], xb[MAX_VECTOR_DIM], ca, cb;
    const vi sign_bit = (vi){0} + (int32_t)0x80000000;
    memset(acc, 0, sizeof(float) * dim * np); /* acc[k np + j]: the pairs i < j's share for row j */
    for (int64_t i = 0; i < n; i += 2) {
        int64_t block = i & ~(int64_t)(LANES - 1);
        vf ga = splat(g[i]), gb = splat(g[i + 1]);
        for (int k = 0; k < dim; ++k) xa[k] = splat(x[k * np + i]), xb[k] = splat(x[k * np + i + 1]);
        /* Two passes over the partners, so that each keeps few vectors in registers:
         * first w_ij = (g_i + g_j) c_ij (o_i and o_j both contain c_ij), ... */
        for (int64_t j = block; j < np; j += LANES) {
            closeness_v(x, np, j, xa, xb, dim, limit, &ca, &cb);
            if (j == block) ca = keep(after(i - block), ca), cb = keep(after(i + 1 - block), cb);
            vf gj = load(g + j);
            store(wa + j, (ga + gj) * ca);
            store(wb + j, (gb + gj) * cb);
        }
        /* ... then t = w_ij sign(x_ic - x_jc) (0 for ties, as in autograd's abs) to both rows */
        for (int k = 0; k < dim; ++k) {
            vf row_a = splat(0.0f), row_b = splat(0.0f);
            float *acc_k = acc + k * np;
            for (int64_t j = block; j < np; j += LANES) {
                vf xj = load(x + k * np + j), da = xa[k] - xj, db = xb[k] - xj;
                vf ta = keep(da != 0.0f, (vf)((vi)load(wa + j) ^ ((vi)da & sign_bit)));
                vf tb = keep(db != 0.0f, (vf)((vi)load(wb + j) ^ ((vi)db & sign_bit)));
                row_a += ta, row_b += tb;
                store(acc_k + j, load(acc_k + j) + (ta + tb)); /* -sign(x_i - x_j) for x_j, times -w */
            }
            grad[k * n + i] = acc_k[i] - sum_v(row_a);
            if (i + 1 < n) grad[k * n + i + 1] = acc_k[i + 1] - sum_v(row_b);
        }
    }
}

/* Dispatch on dim so that each copy has it as a constant (unrolled, in registers). */
#define FOR_EACH_DIM(CALL)                                                                          \
    switch (dim) {                                                                                  \
    case 1: CALL(1); break;                                                                         \
    case 2: CALL(2); break;                                                                         \
    case 3: CALL(3); break;                                                                         \
    case 4: CALL(4); break;                                                                         \
    case 5: CALL(5); break;                                                                         \
    case 6: CALL(6); break;                                                                         \
    case 7: CALL(7); break;                                                                         \
    default: CALL(8); break;                                                                        \
    }

static int forward_vectors_f32(const float *planes, float *o, int64_t kernels, int dim, int64_t n,
                               float max_l1) {
    int64_t np = (n + LANES - 1) / LANES * LANES;
    float *xp = malloc(sizeof(float) * dim * np), *acc = malloc(sizeof(float) * np);
    if (!xp || !acc) return free(xp), free(acc), 1;
    for (int64_t b = 0; b < kernels; ++b) {
        pad_planes(planes + b * dim * n, xp, dim, n, np, max_l1);
#define FORWARD(D) forward_kernel_v(xp, o + b * n, acc, D, n, np, max_l1)
        FOR_EACH_DIM(FORWARD)
#undef FORWARD
    }
    free(xp), free(acc);
    return 0;
}

static int backward_vectors_f32(const float *planes, const float *g, float *grad, int64_t kernels,
                                int dim, int64_t n, float max_l1) {
    int64_t np = (n + LANES - 1) / LANES * LANES;
    float *xp = malloc(sizeof(float) * dim * np), *gp = malloc(sizeof(float) * np);
    float *acc = malloc(sizeof(float) * dim * np), *wa = malloc(sizeof(float) * np), *wb = malloc(sizeof(float) * np);
    if (!xp || !gp || !acc || !wa || !wb) return free(xp), free(gp), free(acc), free(wa), free(wb), 1;
    for (int64_t b = 0; b < kernels; ++b) {
        pad_planes(planes + b * dim * n, xp, dim, n, np, max_l1);
        memcpy(gp, g + b * n, sizeof(float) * n);
        for (int64_t j = n; j < np; ++j) gp[j] = 0;
#define BACKWARD(D) backward_kernel_v(xp, gp, grad + b * dim * n, acc, wa, wb, D, n, np, max_l1)
        FOR_EACH_DIM(BACKWARD)
#undef BACKWARD
    }
    free(xp), free(gp), free(acc), free(wa), free(wb);
    return 0;
}
