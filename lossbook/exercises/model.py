"""The data an exercise is made of: :class:`Exercise`, :class:`Case`, :class:`Misconception`.

An exercise is declared once, as data, in ``lossbook/exercises/catalog/lessonNN.py``;
checking, diagnosis, hints, solutions, ``lossbook release`` and the grader all read it.
"""
from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

#: Output kinds :mod:`lossbook.exercises.compare` knows how to check.
OUTPUT_KINDS = ("scalar", "array", "step", "tuple")


@dataclass(frozen=True)
class Case:
    """One set of inputs for the learner's function.

    Parameters
    ----------
    name : str
        What the case probes, shown when it fails ("one example", "|r| exactly delta").
    args : tuple
        Positional arguments, in the order of the exercise's signature.
    kwargs : mapping
        Keyword arguments (``delta=0.5``), passed by name.
    numeric_gradient : bool
        For gradient exercises: also compare with a numeric gradient here. Off at kinks,
        where a finite difference straddles two slopes.
    """

    name: str
    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    numeric_gradient: bool = True

    @property
    def ndim(self) -> int:
        """Largest number of dimensions among the array arguments (1-D vs 2-D cases)."""
        return max((np.ndim(a) for a in self.args if isinstance(a, np.ndarray)), default=0)


@dataclass(frozen=True)
class Misconception:
    """A wrong implementation a learner is likely to write, and what to tell them.

    ``implementation`` takes the exercise's arguments; when the learner's outputs match
    its outputs on the cases (and it differs from the reference somewhere), the
    diagnosis is ``message``.

    ``name`` is the misconception's key: unique within its exercise and stable across
    releases (the grader's results file and the class report record it). For the class
    report (``lossbook report``), ``reteach`` is a one-line note to the instructor on what
    to reteach, ``section`` the lesson section that addresses it as
    ``"<lesson id>: <heading text>"`` (a Markdown heading of ``notebooks/<lesson id>.ipynb``)
    and ``explorer`` the name of an explorer factory in :mod:`lossbook.explorers` that shows
    it; every catalogued misconception has a note and a section or an explorer
    (``tests/report/test_catalog_notes.py``).
    """

    name: str
    implementation: Callable[..., Any]
    message: str
    reteach: str = ""
    section: str = ""
    explorer: str = ""

    @property
    def section_lesson(self) -> str:
        """The lesson id of :attr:`section` (``"02_mse"``), or ``""``."""
        return self.section.split(": ", 1)[0] if self.section else ""

    @property
    def section_heading(self) -> str:
        """The heading text of :attr:`section` (``"The gradient"``), or ``""``."""
        return self.section.split(": ", 1)[1] if ": " in self.section else ""


@dataclass(frozen=True)
class GradientSpec:
    """How to check a gradient exercise numerically.

    ``cost(*args, **kwargs)`` is the reference scalar cost; ``wrt`` the index of the
    positional argument the gradient is taken with respect to; ``extract(args, output)``
    gives the learner's gradient from their output (default: the output itself).
    """

    cost: Callable[..., float]
    wrt: int
    extract: Callable[[tuple, Any], Any] | None = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner writes, how it is checked, how they are helped.

    Attributes
    ----------
    id, title, lesson : str
        ``id`` is what the learner passes to ``check``; ``lesson`` is the lesson id
        (``"02_mse"``).
    name : str
        The learner's function name (usually ``id``).
    params : str
        The parameter list, as written in the ``def`` line (``"y_true, y_pred, delta=1.0"``).
    docstring : str
        The learner's docstring (also the starter's).
    reference : callable
        The right answer, from :mod:`lossbook.losses` and friends.
    output : {"scalar", "array", "step", "tuple"}
        A float; an array shaped like the reference's; a ``(new_w, new_b)`` pair; a
        tuple of named parts (``parts``), each a number, an array or a dict of arrays
        shaped like the reference's (``(dW, db)``, ``(loss, grads)``).
    parts : tuple of str
        For ``output="tuple"``: the names of the tuple's elements, in order (used in
        feedback: "db returned an array of shape (3, 1) ...").
    rtol, atol : float
        ``|got - expected| <= atol + rtol * |expected|``, elementwise.
    build_cases : callable
        Returns the cases (hand-picked edges, then seeded random ones); called once.
    hints : tuple of str
        Ordered from the idea to the formula to a code skeleton with a ``____`` blank
        (lessons 01–04 use exactly these three steps); never the solution's code, which
        only ``solution()`` shows.
    misconceptions : tuple of Misconception
    solution : str
        The solution code (a complete ``def``); the tests check that it passes.
    gradient : GradientSpec or None
        Set for gradient exercises: also checked against a numeric gradient.
    bounds : callable or None
        ``bounds(case) -> (low, high)``: when set, any output in that interval is right
        (a subgradient at a kink, a clip epsilon left to the learner).
    count : callable or None
        ``count(case) -> n``, the number of examples the cost averages over (for "n times
        too large"). Default: the size of the second argument (the predictions).
    forbidden : tuple of str
        Dotted names of the implementations the learner may not call (the course's
        reference, other libraries' versions of the same thing): ``check`` and the grader
        both refuse them at run time (:mod:`lossbook.exercises.forbidden`), with the reason
        "uses <name>: write it yourself". Every catalog entry declares it (``()`` when
        nothing but the course's own modules, always refused, applies).
    """

    id: str
    title: str
    lesson: str
    params: str
    docstring: str
    reference: Callable[..., Any]
    output: str
    build_cases: Callable[[], Sequence[Case]]
    hints: tuple[str, ...]
    misconceptions: tuple[Misconception, ...]
    solution: str
    rtol: float = 1e-6
    atol: float = 1e-9
    name: str = ""
    gradient: GradientSpec | None = None
    bounds: Callable[[Case], tuple[Any, Any]] | None = None
    count: Callable[[Case], int] | None = None
    forbidden: tuple[str, ...] | None = None
    parts: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.id)
        if self.output not in OUTPUT_KINDS:
            raise ValueError(f"Exercise {self.id!r}: output={self.output!r}; use one of {OUTPUT_KINDS}")
        if (self.output == "tuple") != bool(self.parts):
            raise ValueError(f"Exercise {self.id!r}: name the parts of a tuple output (parts=(...)), "
                             "and only of a tuple output")
        if len(self.misconceptions) < 2:
            raise ValueError(f"Exercise {self.id!r}: declare at least two misconceptions")
        if not self.hints:
            raise ValueError(f"Exercise {self.id!r}: declare at least one hint")
        if self.forbidden is not None and (isinstance(self.forbidden, str) or not all(
                isinstance(n, str) and n.count(".") >= 1 for n in self.forbidden)):
            raise ValueError(f"Exercise {self.id!r}: forbidden={self.forbidden!r}; give a tuple of dotted "
                             "names, e.g. (\"sklearn.metrics.mean_squared_error\",)")

    @functools.cached_property
    def cases(self) -> tuple[Case, ...]:
        """The cases, built on first use (random ones are seeded, so always the same).

        Their arrays are read-only: the learner's function gets copies, and nothing in
        the checking process can change a case by accident.
        """
        cases = tuple(self.build_cases())
        for case in cases:
            for value in (*case.args, *case.kwargs.values()):
                for array in (value.values() if isinstance(value, dict) else (value,)):
                    if isinstance(array, np.ndarray):
                        array.flags.writeable = False
        return cases

    @property
    def signature(self) -> str:
        """The learner's ``def`` line, e.g. ``def mse(y_true, y_pred):``."""
        return f"def {self.name}({self.params}):"

    @property
    def starter(self) -> str:
        """Starter code for the learner's answer cell: def line, docstring, ``raise NotImplementedError``."""
        doc = textwrap.indent(f'"""{self.docstring.strip()}\n"""', "    ")
        return f"{self.signature}\n{doc}\n    raise NotImplementedError\n"

    @property
    def tolerance(self) -> dict[str, float]:
        """How close is right: ``{"rtol": ..., "atol": ...}`` (or the ``bounds`` interval, widened by it)."""
        return {"rtol": self.rtol, "atol": self.atol}

    @property
    def param_names(self) -> tuple[str, ...]:
        """The learner's parameter names, in order (``("y_true", "y_pred", "delta")``)."""
        return tuple(p.split("=")[0].strip() for p in self.params.split(",") if p.strip())

    def n_examples(self, case: Case) -> int:
        """How many examples the cost of ``case`` averages over."""
        if self.count is not None:
            return int(self.count(case))
        return int(np.size(case.args[1] if len(case.args) > 1 else case.args[0]))

    def expected(self, case: Case) -> Any:
        """The reference's output on ``case``."""
        return self.reference(*case.args, **case.kwargs)

    @functools.cached_property
    def template(self) -> Any:
        """The reference's output on the first case: the structure every output must have."""
        return self.expected(self.cases[0])

    @property
    def is_gradient(self) -> bool:
        return self.gradient is not None

    def __repr__(self) -> str:
        return f"<Exercise {self.id!r} ({self.lesson}): {self.signature}>"
