"""Implementations a learner may not call: detected at run time, the same way in ``check`` and ``grade``.

Each exercise declares, as data in its catalog entry (``Exercise.forbidden``), the
implementations of the same thing its learner must not call: the course's own reference
(``lossbook.losses.mse``) and other libraries' (``sklearn.metrics.mean_squared_error``,
``torch.nn.functional.mse_loss``). Besides, no exercise may call into the course's own
modules (:data:`COURSE_MODULES`): they are not in the grading kernel at all, so an answer
using them could pass ``check`` and score 0 in ``grade``.

:func:`call_guarded` runs the learner's function with a profile hook
(:func:`sys.setprofile`) that sees every Python function called and every built-in
function called while it runs, however it was reached (an import under another name, a
helper, ``getattr``); the first call into a forbidden implementation raises
:class:`ForbiddenCall`, whose message is the reason both ``check`` and the grader show:
``"uses scipy.special.softmax: write it yourself"``. Only calls made by code outside the
``lossbook`` package count (the course's references may call each other). NumPy ufuncs are
not seen by profile hooks (they are not functions), so a ufunc cannot be forbidden.

This module uses the standard library only: the grader copies it into the grading
kernel's stand-in package (``lossbook.forbidden``), where :func:`guard_namespace` wraps the
learner's function before each exercise's hidden tests.

Examples
--------
>>> import json
>>> learner = {"json": json, "__name__": "__main__"}  # code outside lossbook, as in a notebook
>>> exec("def mine(text): return json.loads(text)", learner)
>>> mine = learner["mine"]
>>> call_guarded(mine, ("json.loads",), ("[1]",))
Traceback (most recent call last):
...
lossbook.exercises.forbidden.ForbiddenCall: uses json.loads: write it yourself
>>> call_guarded(mine, ("json.dumps",), ("[1]",))
[1]
"""
from __future__ import annotations

import sys

#: The course's own implementations: never callable from an answer (not in the grading kernel).
COURSE_MODULES = ("lossbook.losses", "lossbook.regularization", "lossbook.train", "lossbook.gradcheck",
                  "lossbook.fitting", "lossbook.nn", "lossbook.metrics", "lossbook.calibration",
                  "lossbook.embeddings")
#: The policy file an instructor puts beside the solutions (``lossbook release`` copies it).
POLICY_FILE = "lossbook-policy.toml"


def reason(name: str) -> str:
    """The reason shown by ``check`` and the grader alike."""
    return f"uses {name}: write it yourself"


class ForbiddenCall(BaseException):
    """The learner's function called a forbidden implementation.

    A ``BaseException``: ``except Exception`` in the learner's code does not swallow it.
    """

    def __init__(self, name: str):
        self.name = name
        super().__init__(reason(name))


def _lookup(dotted: str):
    """The object at ``dotted`` when its module is already imported (never imports), else None."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        value = module
        try:
            for attribute in parts[cut:]:
                value = getattr(value, attribute)
        except AttributeError:
            return None
        return value
    return None


def _codes(value) -> tuple[set, set]:
    """Code objects (Python functions, their wrapped originals) and built-ins standing for ``value``."""
    codes, builtins = set(), set()
    seen = 0
    while value is not None and seen < 10:
        seen += 1
        function = getattr(value, "__func__", value)
        code = getattr(function, "__code__", None)
        if code is not None:
            codes.add(code)
        elif callable(value):
            builtins.add(id(value))
        value = getattr(value, "__wrapped__", None)
    return codes, builtins


class _Detector:
    """The profile function: raises :class:`ForbiddenCall` at the first forbidden call."""

    def __init__(self, names):
        self.names = tuple(names)
        #: The frame whose call is refused, while the refusal is raised (Python then unsets
        #: the profile function, and the grading kernel's audit hook lets exactly that pass).
        self.raising = None
        self.pending = {name for name in names if not name.endswith(".*")}
        self.codes: dict = {}
        self.builtins: dict = {}
        self.tops = {name.split(".")[0] for name in self.pending}
        self.resolve()

    def resolve(self) -> None:
        for name in list(self.pending):
            value = _lookup(name)
            if value is None:
                continue
            self.pending.discard(name)
            codes, builtins = _codes(value)
            for code in codes:
                self.codes.setdefault(code, name)
            for ident in builtins:
                self.builtins.setdefault(ident, name)

    def course_name(self, frame) -> str | None:
        if not isinstance(frame.f_globals, dict) or frame.f_globals.get("__lossbook_stub__"):
            return None  # the grading kernel's hollow stand-in raises with the public name itself
        module = frame.f_globals.get("__name__", "")
        for course in COURSE_MODULES:
            if module == course or module.startswith(course + "."):
                public = sys.modules.get(course)
                name = frame.f_code.co_name
                if public is not None and getattr(getattr(public, name, None), "__code__", None) is frame.f_code:
                    return f"{course}.{name}"
                return f"{module}.{frame.f_code.co_qualname}"
        return None

    @staticmethod
    def from_course(frame) -> bool:
        """Whether ``frame`` is the course's own code (a reference calling its helpers)."""
        module = frame.f_globals.get("__name__", "") if frame is not None and isinstance(frame.f_globals, dict) else ""
        return module == "lossbook" or module.startswith("lossbook.")

    def __call__(self, frame, event, arg):
        if event == "call":
            if self.from_course(frame.f_back):
                return  # only the learner's calls count: the course's code may call itself
            code = frame.f_code
            name = self.codes.get(code)
            if name is None:
                name = self.course_name(frame)
            if name is None and self.pending:
                module = frame.f_globals.get("__name__", "") if isinstance(frame.f_globals, dict) else ""
                if module.split(".")[0] in self.tops:
                    self.resolve()
                    name = self.codes.get(code)
            if name is not None:
                self.raising = frame
                raise ForbiddenCall(name)
        elif event == "c_call":
            if self.from_course(frame):
                return
            name = self.builtins.get(id(arg))
            if name is None and self.pending:
                module = getattr(arg, "__module__", None) or ""
                if module.split(".")[0] in self.tops:
                    self.resolve()
                    name = self.builtins.get(id(arg))
            if name is not None:
                self.raising = frame
                raise ForbiddenCall(name)


def call_guarded(fn, names, args=(), kwargs=None):
    """``fn(*args, **kwargs)``; raises :class:`ForbiddenCall` at its first call into ``names``
    (dotted names) or into the course's modules."""
    previous = sys.getprofile()
    if isinstance(previous, _Detector):  # nested (a learner calling this): never fewer names
        names = tuple(previous.names) + tuple(names)
    detector = _Detector(names)
    threading = sys.modules.get("threading")
    previous_threads = threading.getprofile() if threading is not None else None
    if threading is not None:
        threading.setprofile(detector)  # threads the function starts are watched too
    sys.setprofile(detector)
    try:
        return fn(*args, **(kwargs or {}))
    finally:
        sys.setprofile(previous)
        if threading is not None:
            threading.setprofile(previous_threads)


def guarded(fn, names):
    """``fn`` wrapped by :func:`call_guarded` (what the grading kernel's hidden tests call)."""
    names = tuple(names)

    def wrapper(*args, **kwargs):
        return call_guarded(fn, names, args, kwargs)

    wrapper.__wrapped__ = fn
    wrapper.__name__ = getattr(fn, "__name__", "wrapper")
    wrapper.__lossbook_guarded__ = True
    return wrapper


def guard_namespace(namespace: dict, function: str, names) -> None:
    """Wrap ``namespace[function]`` (the learner's function) in :func:`guarded`, once."""
    fn = namespace.get(function)
    if callable(fn) and not getattr(fn, "__lossbook_guarded__", False):
        namespace[function] = guarded(fn, names)


def relaxed(names, exercise_id: str, policy: dict) -> tuple[str, ...]:
    """``names`` minus what ``policy`` (the parsed policy file) allows for ``exercise_id``.

    The policy file's ``[allow]`` table maps an exercise id to a list of dotted names, or
    to ``true`` for all of them; the course's own references cannot be allowed (they are
    not in the grading kernel).

    >>> relaxed(("lossbook.losses.softmax", "scipy.special.softmax", "torch.softmax"), "softmax",
    ...         {"allow": {"softmax": ["scipy.special.softmax", "lossbook.losses.softmax"]}})
    ('lossbook.losses.softmax', 'torch.softmax')
    """
    allow = (policy.get("allow") or {}).get(exercise_id, [])
    if allow is True:
        allow = list(names)
    if not isinstance(allow, list):
        return tuple(names)
    return tuple(n for n in names if n not in allow or n.startswith(tuple(m + "." for m in COURSE_MODULES)))


def read_policy(folder) -> dict:
    """The policy file in ``folder`` (``{}`` when there is none); raises ``ValueError`` when malformed."""
    import os

    path = os.path.join(str(folder), POLICY_FILE)
    if not os.path.isfile(path):
        return {}
    import tomllib

    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: not valid TOML ({error}); see docs/instructor.md, 'Library policy'") from None
    allow = data.get("allow", {})
    if not isinstance(allow, dict) or not all(v is True or (isinstance(v, list) and all(isinstance(x, str) for x in v))
                                              for v in allow.values()):
        raise ValueError(f"{path}: [allow] must map exercise ids to a list of dotted names or to true; "
                         "e.g. softmax = [\"scipy.special.softmax\"]")
    return data
