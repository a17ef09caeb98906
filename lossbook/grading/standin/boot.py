"""Bootstrap of a sandboxed grading kernel: ``python -I boot.py -f CONNECTION_FILE``.

Runs inside the sandbox before any learner code:

1. puts the stand-in ``lossbook`` package (next to this file) first on ``sys.path`` and
   drops the editable-install finder of the real one;
2. imports numpy and ipykernel, so the kernel is warm when a submission arrives;
3. installs the second layer of defence, whose only job is clear reasons in the
   gradebook (the sandbox is the security boundary): an import guard refusing
   ``lossbook.<anything but canonical>`` (the references), and a PEP 578 audit hook
   refusing subprocesses, ctypes, sockets and file reads outside the Python installation
   and ``/tmp``. Each refusal raises ``PermissionError``/``ImportError`` naming it and is
   also written, one line each, to a file descriptor the grader reads (``REPORT_FD``);
4. starts ipykernel.

The grader reads lines ``REFUSED <kind> <detail>`` from that descriptor.
"""
import os
import sys

REFUSAL = "lossbook grader refused"


def _main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]
    for name in [m for m in sys.modules if m == "lossbook" or m.startswith("lossbook.")]:
        del sys.modules[name]

    import numpy  # noqa: F401  (warm start)
    import lossbook  # noqa: F401  (the stand-in)
    import lossbook.canonical  # noqa: F401
    from ipykernel import kernelapp

    if os.environ.get("LOSSBOOK_GRADING_GUARDS", "1") != "0":
        _install_guards(os.dup(2), here)
    kernelapp.launch_new_instance(argv=argv)


def _install_guards(report_fd, runtime):
    import importlib.abc

    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    readable = tuple(sorted(prefixes | {"/usr", runtime, "/tmp", "/dev", "/proc/self"}))
    counted = [0]

    def report(kind, detail):
        if counted[0] < 50:
            counted[0] += 1
            line = f"REFUSED {kind} {detail!r}\n".encode("utf-8", "replace")[:600]
            try:
                os.write(report_fd, line)
            except OSError:
                pass

    class ReferenceGuard(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.startswith("lossbook.") and fullname != "lossbook.canonical":
                report("reference-import", fullname)
                raise ImportError(
                    f"{REFUSAL}: importing {fullname} (the reference implementations are not "
                    "available while grading; write the function yourself)", name=fullname)
            return None

    sys.meta_path.insert(0, ReferenceGuard())

    def allowed_read(path):
        if isinstance(path, int):
            return True
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return True
        real = os.path.realpath(path)
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
    }

    def hook(event, args):
        kind = refused_events.get(event)
        if kind is not None:
            detail = event if kind != "subprocess" else f"{event} {str(args[:2])[:200]}"
            report(kind, detail)
            raise PermissionError(f"{REFUSAL}: {kind} ({event}) is not allowed while grading")
        if event == "open" and args and not allowed_read(args[0]):
            report("file-read", str(args[0])[:300])
            raise PermissionError(f"{REFUSAL}: reading {args[0]!r} is not allowed while grading")

    sys.addaudithook(hook)


if __name__ == "__main__":
    _main(sys.argv[1:])
