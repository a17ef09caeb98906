"""Bootstrap of a sandboxed grading kernel: ``python -I boot.py --lossbook-report=W,K -f CONNECTION_FILE``.

Runs inside the sandbox before any learner code:

1. puts the stand-in ``lossbook`` package (next to this file) first on ``sys.path`` and
   drops the editable-install finder of the real one;
2. imports numpy and ipykernel, so the kernel is warm when a submission arrives;
3. installs the second layer of defence, whose only job is clear reasons in the
   gradebook (the sandbox is the security boundary): a PEP 578 audit hook refusing
   ``lossbook.<anything but canonical>`` imports (the references), subprocesses, ctypes,
   sockets, heap introspection (``gc.get_objects`` ...) and file reads outside the Python
   installation and the kernel's own folders, plus an import finder for the imports that
   raise no audit event (``importlib.import_module``). Each refusal raises
   ``PermissionError``/``ImportError`` naming it;
4. starts ipykernel.

Refusal records travel over a channel learner code cannot forge: pipe ``W`` carries lines
``R <seq> <kind> <base64 detail> <hmac>``, each signed (HMAC-SHA256) with a key read from
pipe ``K`` (then closed) before any learner code runs. The key lives only in the audit
hook's closure: audit hooks cannot be listed from Python, the hook never calls learner
code, and the heap-walking calls that could reach it are refused. Learner code can write
to ``W`` but cannot sign; the grader rejects unsigned records and unknown kinds.
"""
import os
import sys

REFUSAL = "lossbook grader refused"
#: The stand-in's own modules (hollow course modules included): importable while grading.
STAND_IN = ("lossbook.canonical", "lossbook.forbidden", "lossbook.losses", "lossbook.regularization",
            "lossbook.train", "lossbook.gradcheck")


def _report_fds(argv):
    """``(report fd, key fd)`` from ``--lossbook-report=W,K`` (removed from ``argv``)."""
    for index, arg in enumerate(argv):
        if arg.startswith("--lossbook-report="):
            del argv[index]
            write, key = arg.split("=", 1)[1].split(",")
            return int(write), int(key)
    return None, None


def _main(argv):
    argv = list(argv)
    report_fd, key_fd = _report_fds(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]
    for name in [m for m in sys.modules if m == "lossbook" or m.startswith("lossbook.")]:
        del sys.modules[name]

    import numpy  # noqa: F401  (warm start)
    import lossbook  # noqa: F401  (the stand-in)
    import lossbook.canonical  # noqa: F401
    import lossbook.forbidden  # noqa: F401  (its code sets the profile hook; see _install_guards)
    if os.environ.get("LOSSBOOK_GRADING_GUARDS", "1") != "0" and report_fd is not None:
        _install_guards(report_fd, key_fd, here)
    else:
        for fd in (report_fd, key_fd):
            if fd is not None:
                os.close(fd)
    start_kernel(argv)


def start_kernel(argv):
    """Start ipykernel, its replies never dropped by ZeroMQ (here and in a forked kernel).

    ipykernel's shell and control sockets are ZeroMQ ROUTERs, which silently drop what
    is sent past their send high-water mark (1,000 messages). A cell that floods forged
    replies faster than the kernel's own I/O thread writes them out would make it drop
    the cell's real ``execute_reply`` (attack ``execute_reply_flood``): these sockets
    queue without a limit instead (the kernel's memory is capped by its sandbox) and the
    grader reads them to the end.
    """
    from ipykernel import kernelapp
    from traitlets.config import Config

    class GradingKernelApp(kernelapp.IPKernelApp):
        def init_sockets(self):
            super().init_sockets()
            for socket in (self.shell_socket, self.control_socket):
                socket.sndhwm = 0  # before the grader connects: its pipe gets no limit

    config = Config()
    # No SQLite history: a kernel lives for one submission, and creating the database
    # (and its saving thread) was a fifth of a forked kernel's start-up CPU. ``In``,
    # ``Out`` and ``_`` work as before (in memory).
    config.HistoryManager.enabled = False
    GradingKernelApp.launch_instance(argv=argv, config=config)


class ReferenceGuard:
    """Refuses ``lossbook.*`` imports the audit hook does not see (``importlib.import_module``).

    Holds nothing: it announces the refusal with an audit event that only the hook,
    checking that this very code raised it, turns into a record.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("lossbook.") and fullname not in STAND_IN:
            sys.audit("lossbook.refused-import", fullname)
            raise ImportError(
                f"{REFUSAL}: importing {fullname} (the reference implementations are not "
                "available while grading; write the function yourself)", name=fullname)
        return None


def _install_guards(report_fd, key_fd, runtime):
    import base64
    import hashlib
    import hmac

    key = b""
    while len(key) < 32:
        chunk = os.read(key_fd, 32 - len(key))
        if not chunk:
            break
        key += chunk
    os.close(key_fd)
    os.set_blocking(report_fd, False)
    sign, sha256, b64, write = hmac.new, hashlib.sha256, base64.b64encode, os.write
    realpath, getframe = os.path.realpath, sys._getframe
    finder_code = ReferenceGuard.find_spec.__code__
    # Only the forbidden-implementation guard (and threads it watches) may set a profile
    # function: learner code switching it off would call sklearn & co. unseen.
    import threading

    profile_setters = {sys.modules["lossbook.forbidden"].call_guarded.__code__,
                       threading.Thread._bootstrap_inner.__code__}
    prefixes = {realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    work = os.environ.get("LOSSBOOK_WORKDIR", "/tmp/work")
    connection = [argv_path for flag, argv_path in zip(sys.argv, sys.argv[1:]) if flag == "-f"]
    readable = tuple(sorted(prefixes | {"/usr", runtime, work, "/dev"} | {realpath(p) for p in connection}))
    counted = [0]

    def report(kind, detail):
        if counted[0] >= 50:
            return
        counted[0] += 1
        body = b" ".join((str(counted[0]).encode(), kind.encode(),
                          b64(str(detail)[:300].encode("utf-8", "replace"))))
        line = b"R " + body + b" " + sign(key, body, sha256).hexdigest().encode() + b"\n"
        try:
            write(report_fd, line)
        except OSError:
            pass

    def allowed_read(path):
        if type(path) is int:
            return True
        if type(path) is bytes:
            path = path.decode("utf-8", "surrogateescape")
        elif type(path) is not str:
            # Never call learner code from the hook (a PathLike's __fspath__ could walk
            # frames up to this closure): only the standard library's own path types.
            if type(path).__module__ != "pathlib":
                return False
            path = str(path)
        real = realpath(path)
        if real.endswith(".ipynb") or "/solutions" in real:
            return False
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in readable)

    refused_events = {
        "subprocess.Popen": "subprocess", "os.system": "subprocess", "os.exec": "subprocess",
        "os.posix_spawn": "subprocess", "os.spawn": "subprocess", "os.fork": "subprocess",
        "os.forkpty": "subprocess", "pty.spawn": "subprocess",
        "ctypes.dlopen": "ctypes", "ctypes.dlsym": "ctypes", "ctypes.dlsym/handle": "ctypes",
        "ctypes.addressof": "ctypes", "ctypes.string_at": "ctypes", "ctypes.wstring_at": "ctypes",
        "ctypes.cdata": "ctypes", "ctypes.cdata/buffer": "ctypes", "ctypes.call_function": "ctypes",
        "ctypes.set_errno": "ctypes",
        "socket.connect": "network", "socket.bind": "network", "socket.sendto": "network",
        "gc.get_objects": "introspection", "gc.get_referrers": "introspection",
        "gc.get_referents": "introspection",
    }

    def hook(event, args):
        kind = refused_events.get(event)
        if kind is not None:
            detail = event if kind != "subprocess" else f"{event} {str(args[:2])[:200]}"
            report(kind, detail)
            raise PermissionError(f"{REFUSAL}: {kind} ({event}) is not allowed while grading")
        if event == "import" and args and type(args[0]) is str and args[0].startswith("lossbook.") \
                and args[0] not in STAND_IN:
            report("reference-import", args[0])
            raise ImportError(f"{REFUSAL}: importing {args[0]} (the reference implementations are not "
                              "available while grading; write the function yourself)", name=args[0])
        if event == "sys.setprofile":  # (a trace function does not replace the profile hook)
            caller = getframe(1)
            current = sys.getprofile()
            if caller.f_code not in profile_setters and getattr(current, "raising", None) is not caller:
                report("profile-hook", event)
                raise PermissionError(f"{REFUSAL}: {event} (it would switch off the check of forbidden "
                                      "implementations) is not allowed while grading")
            return
        if event == "lossbook.refused-import":
            # Only the guard's own code may announce it (learner code can call sys.audit too).
            if getframe(1).f_code is finder_code and args and type(args[0]) is str:
                report("reference-import", args[0])
            return
        if event == "open" and args and not allowed_read(args[0]):
            shown = args[0] if type(args[0]) in (str, bytes, int) else type(args[0]).__name__
            report("file-read", str(shown)[:300])
            raise PermissionError(f"{REFUSAL}: reading {shown!r} is not allowed while grading")

    sys.meta_path.insert(0, ReferenceGuard())
    sys.addaudithook(hook)


if __name__ == "__main__":
    _main(sys.argv[1:])
