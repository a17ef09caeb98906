/* Fused sums of losses over large float64 arrays (lossbook.losses._fused; not part of the API).

   numpy evaluates a formula one ufunc at a time: the Huber loss's sum takes five passes over
   each block (residual, |r|, min(|r|, delta), two dot products), the hinge's seven (margin,
   its maximum, 1 - margin, max(0, .), the sum, two label counts), each at its own hardware
   floor, where PyTorch fuses the whole loss into one pass (issue 13). Here the loss of every
   element is formed and summed in one pass over y and y_pred, with nothing written to memory.
   The losses with exp and log (below huber and the margins) are formed in tiles, with their
   exp/log from glibc's vector math library where the processor has AVX2 (see there).

   Accuracy: the sum runs in eight (the margins: four) independent accumulators (which the compiler turns into
   vector registers: no -ffast-math needed) over chunks of CHUNK values; the chunks' sums are
   added with Neumaier's compensated summation. The error is then at most about
   CHUNK / 8 (4) * eps relative to the sum of |terms| (terms are >= 0 here: no cancellation),
   whatever the array's size.

   Built by setup.py as an optional extension: where no C compiler is at hand the package
   installs without it and the losses are computed with numpy (lossbook.losses._compute:
   FUSED is None). Only the buffer protocol is used (no numpy headers): the caller passes
   C-contiguous float64 arrays of the same size (class indices as int64). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#define LANES 8
#define CHUNK 4096

/* the Huber loss m * (|r| - m / 2) with m = min(|r|, delta), r = p - y. A NaN residual
   gives m = delta and a NaN term; an infinite one an infinite term: the caller checks the
   sum's finiteness, as the numpy path does. */
static double huber_chunk(const double *y, const double *p, Py_ssize_t n, double delta)
{
    double acc[LANES] = {0.0};
    Py_ssize_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (int j = 0; j < LANES; j++) {
            double a = fabs(p[i + j] - y[i + j]);
            double m = a < delta ? a : delta;
            acc[j] += m * (a - 0.5 * m);
        }
    }
    double rest = 0.0;
    for (; i < n; i++) {
        double a = fabs(p[i] - y[i]);
        double m = a < delta ? a : delta;
        rest += m * (a - 0.5 * m);
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
           + rest;
}

/* Σ r² and Σ |r| of r = p − y, as huber_chunk (the MSE's and MAE's sums: numpy takes a
   subtraction and a dot, or a subtraction, an abs and a sum) */
#define RESIDUAL_CHUNK(NAME, TERM)                                                          \
static double NAME(const double *y, const double *p, Py_ssize_t n)                         \
{                                                                                           \
    double acc[LANES] = {0.0};                                                              \
    Py_ssize_t i = 0;                                                                       \
    for (; i + LANES <= n; i += LANES) {                                                    \
        for (int j = 0; j < LANES; j++) {                                                   \
            double r = p[i + j] - y[i + j];                                                 \
            acc[j] += TERM;                                                                 \
        }                                                                                   \
    }                                                                                       \
    double rest = 0.0;                                                                      \
    for (; i < n; i++) {                                                                    \
        double r = p[i] - y[i];                                                             \
        rest += TERM;                                                                       \
    }                                                                                       \
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) \
           + rest;                                                                          \
}

RESIDUAL_CHUNK(squared_chunk, r * r)
RESIDUAL_CHUNK(absolute_chunk, fabs(r))

/* Neumaier's compensated sum, of the chunks' sums */
typedef struct { double sum, compensation; } Compensated;

static void add(Compensated *c, double x)
{
    double t = c->sum + x;
    if (fabs(c->sum) >= fabs(x))
        c->compensation += (c->sum - t) + x;
    else
        c->compensation += (x - t) + c->sum;
    c->sum = t;
}

static double total(const Compensated *c)
{
    /* (an infinite sum, from huge finite terms, leaves a NaN compensation: inf − inf) */
    return isfinite(c->sum) ? c->sum + c->compensation : c->sum;
}

static double huber_sum(const double *y, const double *p, Py_ssize_t n, double delta)
{
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += CHUNK) {
        Py_ssize_t size = n - start < CHUNK ? n - start : CHUNK;
        add(&c, huber_chunk(y + start, p + start, size, delta));
    }
    return total(&c);
}

static double residual_sum(const double *y, const double *p, Py_ssize_t n, int squared)
{
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += CHUNK) {
        Py_ssize_t size = n - start < CHUNK ? n - start : CHUNK;
        add(&c, squared ? squared_chunk(y + start, p + start, size)
                        : absolute_chunk(y + start, p + start, size));
    }
    return total(&c);
}

/* The hinge max(0, 1 - y s) (squared by margin_chunk_squared) of each element, summed as
   huber_sum's terms. Also:
   - `off` += (|y| - 1)^2, which is 0 exactly when every label is -1 or +1 (the smallest
     nonzero |y| - 1 of a double, 2^-53, squares to a normal number; NaN and inf stay);
   - `poison` += 0 * y s, NaN when a margin is NaN or infinite, which the hinge would hide
     for +inf (max(0, -inf) = 0).
   No comparisons: gcc turned them into branches (mispredicted on random labels, 11 ns an
   element) instead of vector code. max(h, 0) is (h + |h|) / 2, exact unless h + |h|
   overflows (h > 8.9e307: the sum is then inf and the caller sums again with numpy). */
#define MLANES 4  /* three sums per lane: 4 lanes keep them in registers */
#define MARGIN_CHUNK(NAME, TERM)                                                            \
static double NAME(const double *y, const double *s, Py_ssize_t n, double *off,            \
                   double *poison)                                                         \
{                                                                                           \
    double acc[MLANES] = {0.0}, dist[MLANES] = {0.0}, zero[MLANES] = {0.0};                   \
    Py_ssize_t i = 0;                                                                       \
    for (; i + MLANES <= n; i += MLANES) {                                                    \
        for (int j = 0; j < MLANES; j++) {                                                   \
            double label = y[i + j], m = label * s[i + j], h = 1.0 - m;                     \
            double d = fabs(label) - 1.0;                                                   \
            h = 0.5 * (h + fabs(h));                                                        \
            acc[j] += TERM;                                                                 \
            dist[j] += d * d;                                                               \
            zero[j] += 0.0 * m;                                                             \
        }                                                                                   \
    }                                                                                       \
    double rest = 0.0;                                                                      \
    for (; i < n; i++) {                                                                    \
        double label = y[i], m = label * s[i], h = 1.0 - m;                                 \
        double d = fabs(label) - 1.0;                                                       \
        h = 0.5 * (h + fabs(h));                                                            \
        rest += TERM;                                                                       \
        dist[0] += d * d;                                                                   \
        zero[0] += 0.0 * m;                                                                 \
    }                                                                                       \
    for (int j = 0; j < MLANES; j++) {                                                       \
        *off += dist[j];                                                                    \
        *poison += zero[j];                                                                 \
    }                                                                                       \
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + rest;                                 \
}

MARGIN_CHUNK(margin_chunk, h)
MARGIN_CHUNK(margin_chunk_squared, h * h)

static double margin_sum(const double *y, const double *s, Py_ssize_t n, int squared,
                         double *off)
{
    Compensated c = {0.0, 0.0};
    double poison = 0.0;
    for (Py_ssize_t start = 0; start < n; start += CHUNK) {
        Py_ssize_t size = n - start < CHUNK ? n - start : CHUNK;
        add(&c, squared ? margin_chunk_squared(y + start, s + start, size, off, &poison)
                        : margin_chunk(y + start, s + start, size, off, &poison));
    }
    return poison != 0.0 ? poison /* NaN */ : total(&c);
}

/* ---------------------------------------------------------------------------------------
   The losses with exp and log (logits, log-cosh, Barron, softmax cross-entropy).

   What they cost is the exp/log of each element, not the passes: numpy calls libm's scalar
   exp/log for every float64 element unless the processor has AVX-512 (8-30 ns an element
   under load), where PyTorch's are vectorised. Here each loss is formed over a tile of TILE
   elements (in L1), with exp/log/log1p/expm1 applied to the whole tile in one call of
   apply(): four elements at a time through glibc's vector math library libmvec
   (_ZGVdN4v_exp etc., AVX2, documented within 4 ulp) where the processor has AVX2 and FMA
   and libmvec.so.1 has them (glibc >= 2.35 on x86-64, looked up with dlopen at import: the
   extension links against nothing new and builds anywhere), else with libm's scalar
   functions, one element at a time (the same formula, a few ulp apart).

   Determinism: every element goes through the same function whatever its position (the
   last partial vector of a tile is padded, not finished in scalar code), so the same input
   gives the same bits on the same machine, in a sum or element by element. The tiles' sums
   are added with Neumaier's compensation, as above.
   --------------------------------------------------------------------------------------- */
#define TILE 512

enum { F_EXP, F_LOG, F_LOG1P, F_EXPM1, N_FUNCS };

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define VECTOR_MATH 1
#include <dlfcn.h>
#include <immintrin.h>

typedef __m256d (*Vec4)(__m256d);
static Vec4 vec4[N_FUNCS];

/* (compiled for AVX2 alone, called only where the processor has it: the rest of the
   extension stays baseline x86-64) */
__attribute__((target("avx2,fma")))
static void apply_vec4(Vec4 f, double *t, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(t + i, f(_mm256_loadu_pd(t + i)));
    if (i < n) {  /* the last 1-3 elements, padded with 0.5 (finite for every function) */
        double pad[4] = {0.5, 0.5, 0.5, 0.5};
        for (Py_ssize_t j = 0; i + j < n; j++)
            pad[j] = t[i + j];
        _mm256_storeu_pd(pad, f(_mm256_loadu_pd(pad)));
        for (Py_ssize_t j = 0; i + j < n; j++)
            t[i + j] = pad[j];
    }
}

static const char *const VEC4_NAMES[N_FUNCS] = {
    "_ZGVdN4v_exp", "_ZGVdN4v_log", "_ZGVdN4v_log1p", "_ZGVdN4v_expm1",
};

/* 1 if libmvec's AVX2 functions are found and the processor runs them, else 0 */
static int find_vector_math(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
    void *lib = dlopen("libmvec.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return 0;
    for (int f = 0; f < N_FUNCS; f++) {
        vec4[f] = (Vec4)dlsym(lib, VEC4_NAMES[f]);
        if (vec4[f] == NULL)
            return 0;  /* (libmvec stays loaded: it is part of the C library) */
    }
    return 1;
}
#else
static int find_vector_math(void) { return 0; }
#endif

static int vector_math_found;  /* set at import */
static int vector_math_on;     /* vector_math_found, unless turned off (tests, benchmarks) */

/* t[i] = f(t[i]) for i < n */
static void apply(int f, double *t, Py_ssize_t n)
{
#ifdef VECTOR_MATH
    if (vector_math_on) {
        apply_vec4(vec4[f], t, n);
        return;
    }
#endif
    switch (f) {
    case F_EXP: for (Py_ssize_t i = 0; i < n; i++) t[i] = exp(t[i]); break;
    case F_LOG: for (Py_ssize_t i = 0; i < n; i++) t[i] = log(t[i]); break;
    case F_LOG1P: for (Py_ssize_t i = 0; i < n; i++) t[i] = log1p(t[i]); break;
    default: for (Py_ssize_t i = 0; i < n; i++) t[i] = expm1(t[i]); break;
    }
}

/* Σ t[i] for i < n, in LANES accumulators */
static double tile_sum(const double *t, Py_ssize_t n)
{
    double acc[LANES] = {0.0};
    Py_ssize_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += t[i + j];
    double rest = 0.0;
    for (; i < n; i++)
        rest += t[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
           + rest;
}

/* x ** gamma for x in [0, 1]: x · x for the usual gamma = 2, as numpy's path does */
static double power(double x, double gamma)
{
    if (gamma == 2.0)
        return x * x;
    if (gamma == 1.0)
        return x;
    if (gamma == 0.0)
        return 1.0;
    return pow(x, gamma);
}

/* The logit losses, from e = exp(−|z|) and l = log1p(e) of each element:
   - BCE:           max(z, 0) − y z + l
   - WEIGHTED_BCE:  w y (max(−z, 0) + l) + (1 − y)(max(z, 0) + l)
   - FOCAL:         α_t σ(−s)^γ (max(−s, 0) + l), s = ±z (+ for y = 1), with
                    σ(−s) = (1 if −s ≥ 0 else e) / (1 + e) and α_t = a_pos or a_neg.
   The same operations in the same order as lossbook.losses.classification / robust. */
enum { BCE, WEIGHTED_BCE, FOCAL };
/* max(x, 0) as a comparison (libm's fmax is a call: it must handle NaN, which the logits,
   checked finite by the caller, never are) */
#define POSITIVE(x) ((x) > 0.0 ? (x) : 0.0)
typedef struct { int kind; double weight, gamma, a_pos, a_neg; } LogitLoss;

static double logit_sum(const double *y, const double *z, Py_ssize_t n, const LogitLoss *loss)
{
    double e[TILE], l[TILE];
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        const double *yt = y + start, *zt = z + start;
        for (Py_ssize_t i = 0; i < m; i++)
            e[i] = -fabs(zt[i]);
        apply(F_EXP, e, m);
        for (Py_ssize_t i = 0; i < m; i++)
            l[i] = e[i];
        apply(F_LOG1P, l, m);
        if (loss->kind == BCE) {
            for (Py_ssize_t i = 0; i < m; i++)
                l[i] += POSITIVE(zt[i]) - yt[i] * zt[i];
        } else if (loss->kind == WEIGHTED_BCE) {
            for (Py_ssize_t i = 0; i < m; i++)
                l[i] = loss->weight * yt[i] * (POSITIVE(-zt[i]) + l[i])
                       + (1.0 - yt[i]) * (POSITIVE(zt[i]) + l[i]);
        } else {
            for (Py_ssize_t i = 0; i < m; i++) {
                double minus_s = -((2.0 * yt[i] - 1.0) * zt[i]);
                double q = (minus_s >= 0.0 ? 1.0 : e[i]) / (e[i] + 1.0);
                double alpha_t = loss->a_pos == loss->a_neg ? loss->a_pos
                                 : loss->a_pos * yt[i] + loss->a_neg * (1.0 - yt[i]);
                l[i] = alpha_t * power(q, loss->gamma) * (l[i] + POSITIVE(minus_s));
            }
        }
        add(&c, tile_sum(l, m));
    }
    return total(&c);
}

/* σ(z) − y of each element, times scale, into out (the gradient of the BCE on logits) */
static void bce_logit_grad(const double *y, const double *z, Py_ssize_t n, double scale,
                           double *out)
{
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        const double *yt = y + start, *zt = z + start;
        double *e = out + start;
        for (Py_ssize_t i = 0; i < m; i++)
            e[i] = -fabs(zt[i]);
        apply(F_EXP, e, m);
        for (Py_ssize_t i = 0; i < m; i++)
            e[i] = ((zt[i] >= 0.0 ? 1.0 : e[i]) / (e[i] + 1.0) - yt[i]) * scale;
    }
}

/* log cosh r = |r| + log1p(e^{−2|r|}) − log 2, r = p − y (NaN for a NaN residual, inf for
   an infinite one: the caller checks the sum, as for huber_sum) */
static double log_cosh_sum(const double *y, const double *p, Py_ssize_t n)
{
    const double log2 = 0.693147180559945309417232121458176568;
    double a[TILE], t[TILE];
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        for (Py_ssize_t i = 0; i < m; i++) {
            a[i] = fabs(p[start + i] - y[start + i]);
            t[i] = -2.0 * a[i];
        }
        apply(F_EXP, t, m);
        apply(F_LOG1P, t, m);
        for (Py_ssize_t i = 0; i < m; i++)
            t[i] = a[i] + t[i] - log2;
        add(&c, tile_sum(t, m));
    }
    return total(&c);
}

/* Barron's loss of x = (p − y) / c: ½x² (alpha = 2), log1p(½x²) (0), −expm1(−½x²) (−inf),
   else |α−2|/α · expm1(α/2 · log1p(x²/|α−2|)) */
static double barron_sum(const double *y, const double *p, Py_ssize_t n, double alpha,
                         double scale_c)
{
    double t[TILE];
    double b = fabs(alpha - 2.0);
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        for (Py_ssize_t i = 0; i < m; i++) {
            double x = (p[start + i] - y[start + i]) / scale_c;
            t[i] = x * x;
        }
        if (alpha == 2.0) {
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = 0.5 * t[i];
        } else if (alpha == 0.0) {
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = 0.5 * t[i];
            apply(F_LOG1P, t, m);
        } else if (isinf(alpha)) {
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = -0.5 * t[i];
            apply(F_EXPM1, t, m);
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = -t[i];
        } else {
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = t[i] / b;
            apply(F_LOG1P, t, m);
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = 0.5 * alpha * t[i];
            apply(F_EXPM1, t, m);
            for (Py_ssize_t i = 0; i < m; i++)
                t[i] = b / alpha * t[i];
        }
        add(&c, tile_sum(t, m));
    }
    return total(&c);
}

/* Softmax cross-entropy of rows z (n × k, C-contiguous) and class indices idx:
   m_i + log Σ_j e^{z_ij − m_i} − t_i, m_i the row's maximum, t_i = z_{i, idx_i}
   ((1 − ε) z_{i, idx_i} + ε · mean_j z_ij with label smoothing ε). `work` holds
   rows_per_tile · k values. Returns the sum; −1 in *bad if an index is out of range
   (then the index's position). */
static double softmax_ce_sum(const long long *idx, const double *z, Py_ssize_t n,
                             Py_ssize_t k, double smoothing, double *work,
                             Py_ssize_t rows_per_tile, Py_ssize_t *bad)
{
    double top[TILE], sums[TILE];
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t row = 0; row < n; row += rows_per_tile) {
        Py_ssize_t rows = n - row < rows_per_tile ? n - row : rows_per_tile;
        const double *zt = z + row * k;
        for (Py_ssize_t r = 0; r < rows; r++) {
            const double *zr = zt + r * k;
            double m = zr[0];
            for (Py_ssize_t j = 1; j < k; j++)
                m = zr[j] > m ? zr[j] : m;
            top[r] = m;
            for (Py_ssize_t j = 0; j < k; j++)
                work[r * k + j] = zr[j] - m;
        }
        apply(F_EXP, work, rows * k);
        for (Py_ssize_t r = 0; r < rows; r++) {
            double s = 0.0;
            for (Py_ssize_t j = 0; j < k; j++)
                s += work[r * k + j];
            sums[r] = s;
        }
        apply(F_LOG, sums, rows);
        for (Py_ssize_t r = 0; r < rows; r++) {
            long long label = idx[row + r];
            if (label < 0 || label >= k) {
                *bad = row + r;
                return NAN;
            }
            const double *zr = zt + r * k;
            double target = zr[label];
            if (smoothing != 0.0) {
                double all = 0.0;
                for (Py_ssize_t j = 0; j < k; j++)
                    all += zr[j];
                target = (1.0 - smoothing) * target + smoothing * all / (double)k;
            }
            sums[r] = (top[r] + sums[r]) - target;
        }
        add(&c, tile_sum(sums, rows));
    }
    return total(&c);
}

/* Its gradient, (softmax(z_i) − Y_i) · scale with Y_i the (smoothed) one-hot row, into
   out (n × k); *bad as above */
static void softmax_ce_grad(const long long *idx, const double *z, Py_ssize_t n,
                            Py_ssize_t k, double smoothing, double scale, double *out,
                            Py_ssize_t rows_per_tile, Py_ssize_t *bad)
{
    const double off = smoothing / (double)k * scale, on = (1.0 - smoothing) * scale;
    for (Py_ssize_t row = 0; row < n; row += rows_per_tile) {
        Py_ssize_t rows = n - row < rows_per_tile ? n - row : rows_per_tile;
        const double *zt = z + row * k;
        double *ot = out + row * k;
        for (Py_ssize_t r = 0; r < rows; r++) {
            const double *zr = zt + r * k;
            double m = zr[0];
            for (Py_ssize_t j = 1; j < k; j++)
                m = zr[j] > m ? zr[j] : m;
            for (Py_ssize_t j = 0; j < k; j++)
                ot[r * k + j] = zr[j] - m;
        }
        apply(F_EXP, ot, rows * k);
        for (Py_ssize_t r = 0; r < rows; r++) {
            long long label = idx[row + r];
            if (label < 0 || label >= k) {
                *bad = row + r;
                return;
            }
            double *o = ot + r * k, s = 0.0;
            for (Py_ssize_t j = 0; j < k; j++)
                s += o[j];
            double factor = scale / s;
            for (Py_ssize_t j = 0; j < k; j++)
                o[j] = o[j] * factor - off;
            o[label] -= on;
        }
    }
}

/* Whether every row of p (n × k) sums to within atol of 1 and holds no negative entry:
   the checks of cross_entropy's probabilities in one pass (a NaN fails both; the caller
   then runs the numpy checks, which name what is wrong) */
static int probability_rows_ok(const double *p, Py_ssize_t n, Py_ssize_t k, double atol)
{
    int ok = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double *row = p + i * k;
        double s = 0.0, low = row[0];
        for (Py_ssize_t j = 0; j < k; j++) {
            s += row[j];
            low = row[j] < low ? row[j] : low;
        }
        ok &= (fabs(s - 1.0) <= atol) & (low >= 0.0);  /* (no branch: false for NaN) */
    }
    return ok;
}

/* Σ_i −log max(p_{i, idx_i}, lo): the cross-entropy of probability rows p (n × k) with
   class indices; *bad as for softmax_ce_sum */
static double nll_sum(const long long *idx, const double *p, Py_ssize_t n, Py_ssize_t k,
                      double lo, Py_ssize_t *bad)
{
    double t[TILE];
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        for (Py_ssize_t i = 0; i < m; i++) {
            long long label = idx[start + i];
            if (label < 0 || label >= k) {
                *bad = start + i;
                return NAN;
            }
            double picked = p[(start + i) * k + label];
            t[i] = picked > lo ? picked : lo;
        }
        apply(F_LOG, t, m);
        for (Py_ssize_t i = 0; i < m; i++)
            t[i] = -t[i];
        add(&c, tile_sum(t, m));
    }
    return total(&c);
}

/* The losses on probabilities p with labels y, p clipped to [lo, hi] first:
   - PROB_BCE:   −(y log p + (1 − y) log1p(−p));
   - PROB_FOCAL: −α_t (1 − p_t)^γ log p_t, p_t = p for y ≠ 0 and 1 − p for y = 0, with
     log p_t = log(p_t) − ((p_t − 1) + (1 − p_t')) / p_t (1 − p_t' the other of p, 1 − p:
     log1p(−p) for a negative, exactly log p for a positive), as lossbook.losses.robust.
   *ok is cleared where a label is outside [0, 1] (BCE) or not 0 or 1 (focal), or a p
   outside [0, 1] (NaN included): the caller then runs the numpy checks, which name it. */
enum { PROB_BCE, PROB_FOCAL };
typedef struct { int kind; double gamma, a_pos, a_neg, lo, hi; } ProbabilityLoss;

static double probability_sum(const double *y, const double *p, Py_ssize_t n,
                              const ProbabilityLoss *loss, int *ok)
{
    double a[TILE], b[TILE], w[TILE];
    Compensated c = {0.0, 0.0};
    int valid = 1;
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        const double *yt = y + start, *pt = p + start;
        for (Py_ssize_t i = 0; i < m; i++) {
            double label = yt[i], prob = pt[i];
            valid &= (prob >= 0.0) & (prob <= 1.0);
            if (loss->kind == PROB_BCE)
                valid &= (label >= 0.0) & (label <= 1.0);
            else
                valid &= (label == 0.0) | (label == 1.0);
            double clipped = prob < loss->lo ? loss->lo : prob > loss->hi ? loss->hi : prob;
            a[i] = clipped;
            b[i] = -clipped;
        }
        if (loss->kind == PROB_BCE) {
            apply(F_LOG, a, m);
            apply(F_LOG1P, b, m);
            for (Py_ssize_t i = 0; i < m; i++)
                a[i] = -(yt[i] * a[i] + (1.0 - yt[i]) * b[i]);
        } else {
            for (Py_ssize_t i = 0; i < m; i++) {
                double clipped = a[i], q = 1.0 - clipped;
                int positive = yt[i] != 0.0;
                double p_t = positive ? clipped : q, other = positive ? q : clipped;
                double correction = ((p_t - 1.0) + other) / p_t;
                b[i] = correction < 1.0 ? correction : 1.0;
                a[i] = p_t;
                w[i] = power(other, loss->gamma)
                       * (loss->a_pos == loss->a_neg ? -loss->a_pos
                          : -loss->a_pos * yt[i] + -loss->a_neg * (1.0 - yt[i]));
            }
            apply(F_LOG, a, m);
            for (Py_ssize_t i = 0; i < m; i++)
                a[i] = w[i] * (a[i] - b[i]);
        }
        add(&c, tile_sum(a, m));
    }
    *ok = valid;
    return total(&c);
}

/* The multi-class hinge (Weston–Watkins) of rows s (n × k) with class indices idx:
   Σ_j max(0, s_ij − s_{i, idx_i} + Δ) − Δ (the sum over every class counts j = idx_i's
   term Δ once, as lossbook.losses.margin does); *bad as for softmax_ce_sum */
static double multiclass_hinge_sum(const long long *idx, const double *s, Py_ssize_t n,
                                   Py_ssize_t k, double margin, Py_ssize_t *bad)
{
    double t[TILE];
    Compensated c = {0.0, 0.0};
    for (Py_ssize_t start = 0; start < n; start += TILE) {
        Py_ssize_t m = n - start < TILE ? n - start : TILE;
        for (Py_ssize_t r = 0; r < m; r++) {
            long long label = idx[start + r];
            if (label < 0 || label >= k) {
                *bad = start + r;
                return NAN;
            }
            const double *row = s + (start + r) * k;
            double correct = row[label], sum = 0.0;
            for (Py_ssize_t j = 0; j < k; j++) {  /* ((s_j − s_y) + Δ: exactly Δ for j = y) */
                double v = (row[j] - correct) + margin;
                sum += v > 0.0 ? v : 0.0;
            }
            t[r] = sum - margin;
        }
        add(&c, tile_sum(t, m));
    }
    return total(&c);
}

static int get_doubles(PyObject *obj, Py_buffer *view, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != sizeof(double) || view->format == NULL || strcmp(view->format, "d") != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous float64 array", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(huber_sum_doc,
"huber_sum(y, p, delta) -> float\n\n"
"Sum over i of the Huber loss of r_i = p_i - y_i (m * (|r| - m / 2), m = min(|r|, delta)),\n"
"in one pass; y and p are C-contiguous float64 arrays of the same size.");

/* y and p as two float64 buffers of the same size; on failure nothing is held */
static int get_pair(PyObject *y_obj, PyObject *p_obj, Py_buffer *y, Py_buffer *p)
{
    if (get_doubles(y_obj, y, "y") < 0)
        return -1;
    if (get_doubles(p_obj, p, "p") < 0) {
        PyBuffer_Release(y);
        return -1;
    }
    if (y->len != p->len) {
        PyBuffer_Release(y);
        PyBuffer_Release(p);
        PyErr_SetString(PyExc_ValueError, "y and p must have the same size");
        return -1;
    }
    return 0;
}

static PyObject *py_huber_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *p_obj;
    double delta;
    Py_buffer y, p;
    if (!PyArg_ParseTuple(args, "OOd:huber_sum", &y_obj, &p_obj, &delta)
            || get_pair(y_obj, p_obj, &y, &p) < 0)
        return NULL;
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = huber_sum((const double *)y.buf, (const double *)p.buf,
                       y.len / (Py_ssize_t)sizeof(double), delta);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&p);
    return PyFloat_FromDouble(result);
}

PyDoc_STRVAR(squared_sum_doc,
"squared_sum(y, p) -> float\n\n"
"Sum over i of r_i^2, r_i = p_i - y_i, in one pass; y and p are C-contiguous float64\n"
"arrays of the same size.");

PyDoc_STRVAR(absolute_sum_doc,
"absolute_sum(y, p) -> float\n\n"
"Sum over i of |r_i|, r_i = p_i - y_i, in one pass; y and p are C-contiguous float64\n"
"arrays of the same size.");

static PyObject *residual_sum_of(PyObject *args, const char *format, int squared)
{
    PyObject *y_obj, *p_obj;
    Py_buffer y, p;
    if (!PyArg_ParseTuple(args, format, &y_obj, &p_obj) || get_pair(y_obj, p_obj, &y, &p) < 0)
        return NULL;
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = residual_sum((const double *)y.buf, (const double *)p.buf,
                          y.len / (Py_ssize_t)sizeof(double), squared);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&p);
    return PyFloat_FromDouble(result);
}

static PyObject *py_squared_sum(PyObject *self, PyObject *args)
{
    return residual_sum_of(args, "OO:squared_sum", 1);
}

static PyObject *py_absolute_sum(PyObject *self, PyObject *args)
{
    return residual_sum_of(args, "OO:absolute_sum", 0);
}

PyDoc_STRVAR(margin_sum_doc,
"margin_sum(y, s, squared) -> (float, bool)\n\n"
"Sum over i of max(0, 1 - y_i s_i) (its square if squared), NaN if a margin y_i s_i is NaN\n"
"or infinite; and whether every y_i is exactly -1 or +1. In one pass; y and s are\n"
"C-contiguous float64 arrays of the same size.");

static PyObject *py_margin_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *s_obj;
    int squared;
    Py_buffer y, s;
    if (!PyArg_ParseTuple(args, "OOp:margin_sum", &y_obj, &s_obj, &squared)
            || get_pair(y_obj, s_obj, &y, &s) < 0)
        return NULL;
    double result, off = 0.0;
    Py_BEGIN_ALLOW_THREADS
    result = margin_sum((const double *)y.buf, (const double *)s.buf,
                        y.len / (Py_ssize_t)sizeof(double), squared, &off);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&s);
    return Py_BuildValue("(dO)", result, off == 0.0 ? Py_True : Py_False);
}

/* class indices: a C-contiguous int64 buffer */
static int get_indices(PyObject *obj, Py_buffer *view, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != 8 || view->format == NULL
            || (strcmp(view->format, "l") != 0 && strcmp(view->format, "q") != 0)) {
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous int64 array", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* an output buffer of n float64 values */
static int get_out(PyObject *obj, Py_buffer *view, Py_ssize_t n)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        return -1;
    if (view->itemsize != sizeof(double) || view->format == NULL
            || strcmp(view->format, "d") != 0 || view->len != n * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError,
                        "out must be a writable C-contiguous float64 array of the inputs' size");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

#define N_DOUBLES(view) ((view).len / (Py_ssize_t)sizeof(double))

PyDoc_STRVAR(logit_sum_doc,
"logit_sum(y, z, kind, weight, gamma, a_pos, a_neg) -> float\n\n"
"Sum over i of a loss of the logit z_i with target y_i, from e = exp(-|z|), l = log1p(e):\n"
"kind 0: max(z, 0) - y z + l (binary cross-entropy); 1: the same with weight w of the\n"
"positives, w y (max(-z, 0) + l) + (1 - y)(max(z, 0) + l); 2: the focal loss\n"
"a_t sigma(-s)^gamma (max(-s, 0) + l), s = (2y - 1) z, a_t = a_pos (y = 1) or a_neg (y = 0).\n"
"y and z are C-contiguous float64 arrays of the same size, z finite.");

static PyObject *py_logit_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *z_obj;
    LogitLoss loss;
    Py_buffer y, z;
    if (!PyArg_ParseTuple(args, "OOidddd:logit_sum", &y_obj, &z_obj, &loss.kind, &loss.weight,
                          &loss.gamma, &loss.a_pos, &loss.a_neg))
        return NULL;
    if (loss.kind < BCE || loss.kind > FOCAL) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0 (BCE), 1 (weighted BCE) or 2 (focal)");
        return NULL;
    }
    if (get_pair(y_obj, z_obj, &y, &z) < 0)
        return NULL;
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = logit_sum((const double *)y.buf, (const double *)z.buf, N_DOUBLES(y), &loss);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&z);
    return PyFloat_FromDouble(result);
}

PyDoc_STRVAR(bce_logit_grad_doc,
"bce_logit_grad(y, z, scale, out) -> None\n\n"
"out_i = (sigma(z_i) - y_i) * scale, sigma from exp(-|z_i|) (no overflow); all three\n"
"C-contiguous float64 arrays of the same size.");

static PyObject *py_bce_logit_grad(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *z_obj, *out_obj;
    double scale;
    Py_buffer y, z, out;
    if (!PyArg_ParseTuple(args, "OOdO:bce_logit_grad", &y_obj, &z_obj, &scale, &out_obj)
            || get_pair(y_obj, z_obj, &y, &z) < 0)
        return NULL;
    if (get_out(out_obj, &out, N_DOUBLES(z)) < 0) {
        PyBuffer_Release(&y);
        PyBuffer_Release(&z);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    bce_logit_grad((const double *)y.buf, (const double *)z.buf, N_DOUBLES(z), scale,
                   (double *)out.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&z);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(log_cosh_sum_doc,
"log_cosh_sum(y, p) -> float\n\n"
"Sum over i of log cosh r_i = |r| + log1p(exp(-2|r|)) - log 2, r_i = p_i - y_i (NaN or inf\n"
"where a residual is); y and p are C-contiguous float64 arrays of the same size.");

static PyObject *py_log_cosh_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *p_obj;
    Py_buffer y, p;
    if (!PyArg_ParseTuple(args, "OO:log_cosh_sum", &y_obj, &p_obj)
            || get_pair(y_obj, p_obj, &y, &p) < 0)
        return NULL;
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = log_cosh_sum((const double *)y.buf, (const double *)p.buf, N_DOUBLES(y));
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&p);
    return PyFloat_FromDouble(result);
}

PyDoc_STRVAR(barron_sum_doc,
"barron_sum(y, p, alpha, c) -> float\n\n"
"Sum over i of Barron's loss of x_i = (p_i - y_i) / c: x^2 / 2 (alpha = 2), log1p(x^2 / 2)\n"
"(alpha = 0), -expm1(-x^2 / 2) (alpha = -inf), else\n"
"|alpha - 2| / alpha * expm1(alpha / 2 * log1p(x^2 / |alpha - 2|)); y and p are\n"
"C-contiguous float64 arrays of the same size.");

static PyObject *py_barron_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *p_obj;
    double alpha, c;
    Py_buffer y, p;
    if (!PyArg_ParseTuple(args, "OOdd:barron_sum", &y_obj, &p_obj, &alpha, &c)
            || get_pair(y_obj, p_obj, &y, &p) < 0)
        return NULL;
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = barron_sum((const double *)y.buf, (const double *)p.buf, N_DOUBLES(y), alpha, c);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&p);
    return PyFloat_FromDouble(result);
}

/* idx (n int64 class indices) and the rows z (n × k float64, `name` in errors) as buffers;
   on failure nothing is held */
static int get_rows(PyObject *idx_obj, PyObject *z_obj, Py_ssize_t k, Py_buffer *idx,
                    Py_buffer *z, const char *name)
{
    if (k < 1) {
        PyErr_SetString(PyExc_ValueError, "k (the number of classes) must be >= 1");
        return -1;
    }
    if (get_indices(idx_obj, idx, "idx") < 0)
        return -1;
    if (get_doubles(z_obj, z, name) < 0) {
        PyBuffer_Release(idx);
        return -1;
    }
    if (N_DOUBLES(*z) != (idx->len / 8) * k) {
        PyBuffer_Release(idx);
        PyBuffer_Release(z);
        PyErr_Format(PyExc_ValueError, "%s must hold k values for each index in idx", name);
        return -1;
    }
    return 0;
}

static PyObject *index_error(Py_ssize_t bad)
{
    return PyErr_Format(PyExc_ValueError, "idx[%zd] is not a class index in [0, k)", bad);
}

PyDoc_STRVAR(softmax_ce_sum_doc,
"softmax_ce_sum(idx, z, k, smoothing) -> float\n\n"
"Sum over the rows i of z (n x k, C-contiguous float64, finite) of the softmax\n"
"cross-entropy m_i + log sum_j exp(z_ij - m_i) - t_i, m_i the row's maximum and\n"
"t_i = (1 - smoothing) z_{i, idx_i} + smoothing * mean_j z_ij; idx is n int64 class indices.");

static PyObject *py_softmax_ce_sum(PyObject *self, PyObject *args)
{
    PyObject *idx_obj, *z_obj;
    Py_ssize_t k;
    double smoothing;
    Py_buffer idx, z;
    if (!PyArg_ParseTuple(args, "OOnd:softmax_ce_sum", &idx_obj, &z_obj, &k, &smoothing)
            || get_rows(idx_obj, z_obj, k, &idx, &z, "z") < 0)
        return NULL;
    Py_ssize_t work_size = k > TILE ? k : TILE;
    double *work = PyMem_Malloc((size_t)work_size * sizeof(double));
    if (work == NULL) {
        PyBuffer_Release(&idx);
        PyBuffer_Release(&z);
        return PyErr_NoMemory();
    }
    double result;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    result = softmax_ce_sum((const long long *)idx.buf, (const double *)z.buf, idx.len / 8, k,
                            smoothing, work, work_size / k, &bad);
    Py_END_ALLOW_THREADS
    PyMem_Free(work);
    PyBuffer_Release(&idx);
    PyBuffer_Release(&z);
    return bad >= 0 ? index_error(bad) : PyFloat_FromDouble(result);
}

PyDoc_STRVAR(softmax_ce_grad_doc,
"softmax_ce_grad(idx, z, k, smoothing, scale, out) -> None\n\n"
"out = (softmax(z_i) - Y_i) * scale for each row i of z (n x k), Y_i the one-hot row of\n"
"idx_i smoothed to (1 - smoothing) Y_i + smoothing / k; out is a C-contiguous float64\n"
"array of z's size.");

static PyObject *py_softmax_ce_grad(PyObject *self, PyObject *args)
{
    PyObject *idx_obj, *z_obj, *out_obj;
    Py_ssize_t k;
    double smoothing, scale;
    Py_buffer idx, z, out;
    if (!PyArg_ParseTuple(args, "OOnddO:softmax_ce_grad", &idx_obj, &z_obj, &k, &smoothing,
                          &scale, &out_obj)
            || get_rows(idx_obj, z_obj, k, &idx, &z, "z") < 0)
        return NULL;
    if (get_out(out_obj, &out, N_DOUBLES(z)) < 0) {
        PyBuffer_Release(&idx);
        PyBuffer_Release(&z);
        return NULL;
    }
    Py_ssize_t bad = -1, rows_per_tile = k > TILE ? 1 : TILE / k;
    Py_BEGIN_ALLOW_THREADS
    softmax_ce_grad((const long long *)idx.buf, (const double *)z.buf, idx.len / 8, k,
                    smoothing, scale, (double *)out.buf, rows_per_tile, &bad);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&idx);
    PyBuffer_Release(&z);
    PyBuffer_Release(&out);
    if (bad >= 0)
        return index_error(bad);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(probability_rows_ok_doc,
"probability_rows_ok(p, k, atol) -> bool\n\n"
"Whether every row of p (C-contiguous float64, k values a row) sums to within atol of 1\n"
"and has no negative entry (False for NaN), in one pass.");

static PyObject *py_probability_rows_ok(PyObject *self, PyObject *args)
{
    PyObject *p_obj;
    Py_ssize_t k;
    double atol;
    Py_buffer p;
    if (!PyArg_ParseTuple(args, "Ond:probability_rows_ok", &p_obj, &k, &atol))
        return NULL;
    if (k < 1) {
        PyErr_SetString(PyExc_ValueError, "k (the number of classes) must be >= 1");
        return NULL;
    }
    if (get_doubles(p_obj, &p, "p") < 0)
        return NULL;
    if (N_DOUBLES(p) % k != 0) {
        PyBuffer_Release(&p);
        PyErr_SetString(PyExc_ValueError, "p must hold whole rows of k values");
        return NULL;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = probability_rows_ok((const double *)p.buf, N_DOUBLES(p) / k, k, atol);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&p);
    return PyBool_FromLong(ok);
}

PyDoc_STRVAR(nll_sum_doc,
"nll_sum(idx, p, k, lo) -> float\n\n"
"Sum over the rows i of p (n x k, C-contiguous float64) of -log max(p[i, idx_i], lo);\n"
"idx is n int64 class indices.");

static PyObject *py_nll_sum(PyObject *self, PyObject *args)
{
    PyObject *idx_obj, *p_obj;
    Py_ssize_t k;
    double lo;
    Py_buffer idx, p;
    if (!PyArg_ParseTuple(args, "OOnd:nll_sum", &idx_obj, &p_obj, &k, &lo)
            || get_rows(idx_obj, p_obj, k, &idx, &p, "p") < 0)
        return NULL;
    double result;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    result = nll_sum((const long long *)idx.buf, (const double *)p.buf, idx.len / 8, k, lo,
                     &bad);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&idx);
    PyBuffer_Release(&p);
    return bad >= 0 ? index_error(bad) : PyFloat_FromDouble(result);
}

PyDoc_STRVAR(probability_sum_doc,
"probability_sum(y, p, kind, gamma, a_pos, a_neg, lo, hi) -> (float, bool)\n\n"
"Sum over i of a loss of the probability p_i (clipped to [lo, hi]) with label y_i: kind 0\n"
"the binary cross-entropy -(y log p + (1 - y) log1p(-p)), kind 1 the focal loss\n"
"-a_t (1 - p_t)^gamma log p_t (p_t = p for y = 1, 1 - p for y = 0); and whether every\n"
"p is in [0, 1] and every y in [0, 1] (kind 0) or 0 or 1 (kind 1). y and p are\n"
"C-contiguous float64 arrays of the same size.");

static PyObject *py_probability_sum(PyObject *self, PyObject *args)
{
    PyObject *y_obj, *p_obj;
    ProbabilityLoss loss;
    Py_buffer y, p;
    if (!PyArg_ParseTuple(args, "OOiddddd:probability_sum", &y_obj, &p_obj, &loss.kind,
                          &loss.gamma, &loss.a_pos, &loss.a_neg, &loss.lo, &loss.hi))
        return NULL;
    if (loss.kind != PROB_BCE && loss.kind != PROB_FOCAL) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0 (BCE) or 1 (focal)");
        return NULL;
    }
    if (get_pair(y_obj, p_obj, &y, &p) < 0)
        return NULL;
    double result;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    result = probability_sum((const double *)y.buf, (const double *)p.buf, N_DOUBLES(y), &loss,
                             &ok);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&y);
    PyBuffer_Release(&p);
    return Py_BuildValue("(dO)", result, ok ? Py_True : Py_False);
}

PyDoc_STRVAR(multiclass_hinge_sum_doc,
"multiclass_hinge_sum(idx, s, k, margin) -> float\n\n"
"Sum over the rows i of s (n x k, C-contiguous float64, finite) of the multi-class hinge\n"
"sum_{j != idx_i} max(0, s_ij - s_{i, idx_i} + margin); idx is n int64 class indices.");

static PyObject *py_multiclass_hinge_sum(PyObject *self, PyObject *args)
{
    PyObject *idx_obj, *s_obj;
    Py_ssize_t k;
    double margin;
    Py_buffer idx, s;
    if (!PyArg_ParseTuple(args, "OOnd:multiclass_hinge_sum", &idx_obj, &s_obj, &k, &margin)
            || get_rows(idx_obj, s_obj, k, &idx, &s, "s") < 0)
        return NULL;
    double result;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    result = multiclass_hinge_sum((const long long *)idx.buf, (const double *)s.buf,
                                  idx.len / 8, k, margin, &bad);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&idx);
    PyBuffer_Release(&s);
    return bad >= 0 ? index_error(bad) : PyFloat_FromDouble(result);
}

PyDoc_STRVAR(vector_math_doc,
"vector_math(on=None) -> bool\n\n"
"Whether exp/log run four elements at a time through libmvec (AVX2) rather than libm's\n"
"scalar functions. With `on`, switch them on (where found at import) or off, and return\n"
"the previous state (for tests and benchmarks; VECTOR_MATH_FOUND says if they were found).");

static PyObject *py_vector_math(PyObject *self, PyObject *args)
{
    PyObject *on = Py_None;
    if (!PyArg_ParseTuple(args, "|O:vector_math", &on))
        return NULL;
    int previous = vector_math_on;
    if (on != Py_None) {
        int flag = PyObject_IsTrue(on);
        if (flag < 0)
            return NULL;
        vector_math_on = flag && vector_math_found;
    }
    return PyBool_FromLong(previous);
}

static PyMethodDef methods[] = {
    {"huber_sum", py_huber_sum, METH_VARARGS, huber_sum_doc},
    {"margin_sum", py_margin_sum, METH_VARARGS, margin_sum_doc},
    {"squared_sum", py_squared_sum, METH_VARARGS, squared_sum_doc},
    {"absolute_sum", py_absolute_sum, METH_VARARGS, absolute_sum_doc},
    {"logit_sum", py_logit_sum, METH_VARARGS, logit_sum_doc},
    {"bce_logit_grad", py_bce_logit_grad, METH_VARARGS, bce_logit_grad_doc},
    {"log_cosh_sum", py_log_cosh_sum, METH_VARARGS, log_cosh_sum_doc},
    {"barron_sum", py_barron_sum, METH_VARARGS, barron_sum_doc},
    {"softmax_ce_sum", py_softmax_ce_sum, METH_VARARGS, softmax_ce_sum_doc},
    {"softmax_ce_grad", py_softmax_ce_grad, METH_VARARGS, softmax_ce_grad_doc},
    {"probability_rows_ok", py_probability_rows_ok, METH_VARARGS, probability_rows_ok_doc},
    {"nll_sum", py_nll_sum, METH_VARARGS, nll_sum_doc},
    {"probability_sum", py_probability_sum, METH_VARARGS, probability_sum_doc},
    {"multiclass_hinge_sum", py_multiclass_hinge_sum, METH_VARARGS, multiclass_hinge_sum_doc},
    {"vector_math", py_vector_math, METH_VARARGS, vector_math_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "lossbook.losses._fused",
    "Fused one-pass losses over float64 arrays, with vector exp/log where found (see _fused.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__fused(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    vector_math_found = vector_math_on = find_vector_math();
    if (PyModule_AddObjectRef(m, "VECTOR_MATH_FOUND", vector_math_found ? Py_True : Py_False) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
