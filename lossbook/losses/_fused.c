/* Fused sums of losses over large float64 arrays (lossbook.losses._fused; not part of the API).

   numpy evaluates a formula one ufunc at a time: the Huber loss's sum takes five passes over
   each block (residual, |r|, min(|r|, delta), two dot products), the hinge's seven (margin,
   its maximum, 1 - margin, max(0, .), the sum, two label counts), each at its own hardware
   floor, where PyTorch fuses the whole loss into one pass (issue 13). Here the loss of every
   element is formed and summed in one pass over y and y_pred, with nothing written to memory.

   Accuracy: the sum runs in eight (the margins: four) independent accumulators (which the compiler turns into
   vector registers: no -ffast-math needed) over chunks of CHUNK values; the chunks' sums are
   added with Neumaier's compensated summation. The error is then at most about
   CHUNK / 8 (4) * eps relative to the sum of |terms| (terms are >= 0 here: no cancellation),
   whatever the array's size.

   Built by setuptools as an optional extension (pyproject.toml, [tool.setuptools]
   ext-modules): where no C compiler is at hand the package installs without it and
   lossbook.losses.regression sums with numpy (lossbook.losses._compute.fused). Only the
   buffer protocol is used (no numpy headers): the caller passes C-contiguous float64 arrays
   of the same size. */
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

static PyMethodDef methods[] = {
    {"huber_sum", py_huber_sum, METH_VARARGS, huber_sum_doc},
    {"margin_sum", py_margin_sum, METH_VARARGS, margin_sum_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "lossbook.losses._fused",
    "Fused one-pass sums of losses over float64 arrays (see _fused.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__fused(void)
{
    return PyModule_Create(&module);
}
