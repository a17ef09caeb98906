"""SandboxedKernel.run_cell against a scripted kernel on real ZeroMQ sockets (no sandbox).

The cells are read by jupyter_client's ``execute_interactive`` through the grader's
:class:`~lossbook.grading.kernel_client.GuardedKernelClient`; the scripted kernel sends
what a hostile one can: messages whose parent header or content is not a mapping, content
that is not JSON, a bad signature, replies to other requests or of other types, floods.
Its execute_reply decides an error only when it is a well-formed reply to this very
request; the rest is dropped, and a forged "ok" never hides an "error". The attack corpus
has the same cases graded end to end in a real kernel (``execute_reply_*.toml``,
``crash_iopub_*.toml``, ``output_flood_across_cells.toml``).
"""
from __future__ import annotations

import threading
import time
import types

import pytest
import zmq
from jupyter_client.session import Session

from lossbook.grading import kernel as kernel_module
from lossbook.grading.kernel import CellRun, SandboxedKernel
from lossbook.grading.kernel_client import GuardedKernelClient, well_formed
from lossbook.grading.run import _error_reason

KEY = b"k" * 32
MINE = object()  # "the parent header of the request being run"


class Process:
    def poll(self):
        return None


class ScriptedKernel:
    """Answers each execute_request by sending its script; an interrupt_request sets
    ``interrupted``. Script items: ``(channel, kind, content, parent)`` where ``parent``
    is :data:`MINE` or any header to forge, ``content`` a dict or raw bytes;
    ``("bad-signature", ...)`` sends on iopub with another key; a callable is called
    with the kernel and the request."""

    def __init__(self, folder, script):
        self.script = script
        self.session = Session(key=KEY, signature_scheme="hmac-sha256")
        self.context = zmq.Context()
        self.sockets = {}
        for name, kind, port in (("shell", zmq.ROUTER, 1), ("iopub", zmq.XPUB, 2), ("stdin", zmq.ROUTER, 3),
                                 ("control", zmq.ROUTER, 4), ("hb", zmq.REP, 5)):
            sock = self.context.socket(kind)
            sock.linger = 0
            if name == "shell":
                sock.sndhwm = 0  # as the grading kernel's (standin/boot.py): the flood test tests the grader
            sock.bind(f"ipc://{folder}/s-{port}")
            self.sockets[name] = sock
        self.info = {"transport": "ipc", "ip": f"{folder}/s", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                     "control_port": 4, "hb_port": 5, "key": KEY.decode(), "signature_scheme": "hmac-sha256"}
        self.interrupted = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def send(self, channel, kind, content, parent, request, ident):
        header = request["header"] if parent is MINE else parent
        msg = self.session.msg(kind, content if isinstance(content, dict) else {}, parent=None)
        msg["parent_header"] = header
        if not isinstance(content, dict):
            msg["content"] = content
        if channel == "bad-signature":
            Session(key=b"x" * 32, signature_scheme="hmac-sha256").send(self.sockets["iopub"], msg)
        else:
            self.session.send(self.sockets[channel], msg, ident=ident if channel == "shell" else None)

    def check_control(self) -> bool:
        """Read the control channel (a script runs in the serving thread); ``interrupted``."""
        control = self.sockets["control"]
        while control.poll(0):
            self.session.recv(control, mode=0)
            self.interrupted.set()
        return self.interrupted.is_set()

    def _serve(self):
        iopub = self.sockets["iopub"]
        iopub.recv()  # the client's subscription: nothing published before it is lost
        poller = zmq.Poller()
        for name in ("shell", "control"):
            poller.register(self.sockets[name], zmq.POLLIN)
        while not self.stopping.is_set():
            for sock, _ in poller.poll(50):
                ident, request = self.session.recv(sock, mode=0)
                if sock is self.sockets["control"]:
                    self.interrupted.set()
                elif request["header"]["msg_type"] == "kernel_info_request":  # as ipykernel answers it
                    self.send("shell", "kernel_info_reply", {"status": "ok"}, MINE, request, ident)
                elif request["header"]["msg_type"] == "execute_request":
                    for item in self.script:
                        if callable(item):
                            item(self, request, ident)
                        else:
                            self.send(*item, request, ident)

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=10)
        for sock in self.sockets.values():
            sock.close(linger=0)
        self.context.term()


@pytest.fixture
def scripted(tmp_path):
    made = []

    def make(script) -> SandboxedKernel:
        folder = tmp_path / str(len(made))
        folder.mkdir()
        fake = ScriptedKernel(folder, script)
        client = GuardedKernelClient(context=zmq.Context.instance())
        client.load_connection_info(fake.info)
        client.start_channels(hb=False)
        kernel = object.__new__(SandboxedKernel)
        kernel.client, kernel.process = client, Process()
        # What KernelManager.interrupt_kernel sends for interrupt_mode "message".
        interrupt = lambda: client.control_channel.send(client.session.msg("interrupt_request", content={}))  # noqa: E731
        kernel.manager = types.SimpleNamespace(interrupt_kernel=interrupt)
        made.append((fake, client))
        return kernel

    yield make
    for fake, client in made:
        client.stop_channels()
        fake.close()


def iopub(kind, content, parent=MINE):
    return ("iopub", kind, content, parent)


def reply(content, parent=MINE, kind="execute_reply"):
    return ("shell", kind, content, parent)


IDLE = iopub("status", {"execution_state": "idle"})
PRINTED = iopub("stream", {"name": "stdout", "text": "1.5\n"})
JUNK = [reply({"status": "error", "ename": "Forged", "evalue": "x"}, parent={"msg_id": "another"}),
        reply({"status": "error"}, kind="kernel_info_reply"), reply(b"[1, 2]"), reply(b"error"),
        reply({"status": ["error"]}), reply({"status": "bogus"}), reply({"status": None}), reply({}),
        reply({"status": "error"}, parent="x"), reply({"status": "error"}, parent=[1, 2])]


@pytest.fixture
def run(scripted):
    def run(iopub_messages, shell_messages, **kwargs) -> CellRun:
        return scripted([*shell_messages, *iopub_messages]).run_cell("x", timeout=kwargs.pop("timeout", 30), **kwargs)

    return run


def test_an_ok_reply_after_forged_and_malformed_ones(run):
    cell = run([PRINTED, IDLE], [*JUNK, reply({"status": "ok"})])
    assert (cell.status, cell.reply_status) == ("ok", "ok")
    assert [o["text"] for o in cell.outputs] == ["1.5\n"]


def test_an_error_reply_without_an_error_output_is_an_error_named_from_the_reply(run):
    cell = run([PRINTED, IDLE], [reply({"status": "error", "ename": "ValueError", "evalue": "silenced"})])
    assert (cell.status, cell.reply_status) == ("error", "error")
    assert cell.error == ("ValueError", "silenced")
    assert _error_reason(cell) == "raised ValueError: silenced"


def test_an_error_reply_with_fields_of_the_wrong_type(run):
    cell = run([IDLE], [reply({"status": "error", "ename": 5, "evalue": ["x"] * 10})])
    assert cell.status == "error" and cell.error == ("", "")
    assert _error_reason(cell) == "raised an error without a name or a message"
    long = run([IDLE], [reply({"status": "error", "ename": "E" * 10_000, "evalue": "v" * 100_000})])
    assert long.error == ("E" * 200, "v" * 1000)


def test_a_forged_ok_never_hides_the_real_error(run):
    cell = run([IDLE], [reply({"status": "ok"}), reply({"status": "error", "ename": "KeyError", "evalue": "'a'"})])
    assert (cell.status, cell.reply_status, cell.error) == ("error", "error", ("KeyError", "'a'"))


def _flood(kernel, request, ident):
    """20,000 replies to another request (one message sent again and again, as fast as
    ZeroMQ takes it) and 1,000 forged "ok" replies to this one, before the real reply."""
    other = kernel.session.msg("execute_reply", {"status": "error", "ename": "Forged", "evalue": "x"})
    other["parent_header"] = {"msg_id": "another"}
    frames = kernel.session.serialize(other, ident)
    for _ in range(20_000):
        kernel.sockets["shell"].send_multipart(frames)
    for _ in range(1_000):
        kernel.send("shell", "execute_reply", {"status": "ok"}, MINE, request, ident)


def test_a_flood_of_forged_replies_never_loses_the_real_one(run):
    """Far past ZeroMQ's default queue (1,000 messages), which used to drop the real reply."""
    cell = run([PRINTED, IDLE], [_flood, reply({"status": "error", "ename": "KeyError", "evalue": "'a'"})])
    assert (cell.status, cell.reply_status, cell.error) == ("error", "error", ("KeyError", "'a'"))
    assert [o.get("text") for o in cell.outputs][:1] == ["1.5\n"]


def test_an_error_output_keeps_its_own_traceback(run):
    error = iopub("error", {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": ["tb"]})
    cell = run([error, IDLE], [reply({"status": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"})])
    assert cell.status == "error" and len(cell.outputs) == 1 and cell.outputs[0]["traceback"] == ["tb"]


def test_an_aborted_reply_is_an_error_with_its_own_reason(run):
    cell = run([IDLE], [reply({"status": "aborted"})])
    assert (cell.status, cell.reply_status, cell.error) == ("error", "aborted", None)
    assert _error_reason(cell) == "the kernel aborted the cell without running it (its execute_reply said \"aborted\")"


def test_no_reply_leaves_the_iopub_verdict(run, monkeypatch):
    monkeypatch.setattr(kernel_module, "REPLY_WAIT", 0.2)
    cell = run([PRINTED, IDLE], [])
    assert (cell.status, cell.reply_status) == ("ok", "")
    cell = run([iopub("error", {"ename": "E", "evalue": "v", "traceback": []}), IDLE], JUNK)
    assert (cell.status, cell.reply_status) == ("error", "")


@pytest.mark.parametrize("status", ["error", "aborted"])
def test_a_reply_never_turns_a_timeout_or_an_output_limit_into_an_error(run, status):
    big = iopub("stream", {"name": "stdout", "text": "x" * 200})
    cell = run([big, IDLE], [reply({"status": status})], max_output=100)
    assert cell.status == "output-too-large" and cell.reply_status == status


def test_an_iopub_message_that_does_not_deserialize_is_dropped(run):
    not_json = iopub("stream", b"Expecting value")
    bad_signature = ("bad-signature", "stream", {"name": "stdout", "text": "forged\n"}, MINE)
    cell = run([not_json, bad_signature, PRINTED, IDLE], [reply({"status": "ok"})])
    assert (cell.status, cell.reply_status) == ("ok", "ok") and [o["text"] for o in cell.outputs] == ["1.5\n"]


def test_iopub_messages_of_the_wrong_shape_are_dropped(run):
    """What crashed ``execute_interactive`` unguarded (attack crash_iopub_parent_header)."""
    forged = [iopub("stream", {"name": "stdout", "text": "forged\n"}, parent=[1, 2]),
              iopub("stream", {"name": "stdout", "text": "forged\n"}, parent="x"),
              iopub("stream", b"[1, 2]"), iopub("status", {}), iopub("status", {"execution_state": None}),
              iopub("status", {"execution_state": "idle"}, parent={"msg_id": "another"}),
              iopub("stream", {"name": "stdout", "text": 5})]
    cell = run([*forged, PRINTED, IDLE], [reply({"status": "ok"})])
    assert (cell.status, cell.reply_status) == ("ok", "ok") and [o["text"] for o in cell.outputs] == ["1.5\n"]


def test_a_flood_of_messages_answering_nothing_cannot_outlast_the_timeout(run):
    """Messages keep coming (so jupyter_client's own timeout, which counts silence, never
    fires) but none is the cell's: the cell is interrupted at its timeout."""
    def flood(kernel, request, ident):
        while not kernel.check_control():
            kernel.send("iopub", "stream", {"name": "stdout", "text": "x"}, {"msg_id": "another"}, request, ident)
            kernel.send("iopub", "stream", b"not json", MINE, request, ident)
            time.sleep(0.001)
        kernel.send("shell", "execute_reply", {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}, MINE,
                    request, ident)
        kernel.send("iopub", "status", {"execution_state": "idle"}, MINE, request, ident)

    cell = run([PRINTED, flood], [], timeout=0.5)  # "killed" would be a kill(): this kernel has nothing to kill
    assert (cell.status, cell.reply_status, [o["text"] for o in cell.outputs]) == ("timeout", "error", ["1.5\n"])


def test_a_cell_that_ignores_the_interrupt_is_killed(scripted, monkeypatch):
    monkeypatch.setattr(kernel_module, "INTERRUPT_GRACE", 0.3)
    kernel = scripted([PRINTED])
    kills = []
    monkeypatch.setattr(kernel, "kill", lambda: kills.append(True), raising=False)
    cell = kernel.run_cell("while True: pass", timeout=0.3)
    assert (cell.status, kills, [o["text"] for o in cell.outputs]) == ("killed", [True], ["1.5\n"])


def test_the_submission_deadline_kills_without_an_interrupt(scripted, monkeypatch):
    kernel = scripted([PRINTED])
    kills = []
    monkeypatch.setattr(kernel, "kill", lambda: kills.append(True), raising=False)
    cell = kernel.run_cell("while True: pass", timeout=30, deadline=time.monotonic() + 0.3)
    assert (cell.status, kills) == ("killed", [True])


@pytest.mark.parametrize("msg", [None, [], "x", {}, {"header": {"msg_type": "stream"}, "msg_type": "stream",
                                                      "parent_header": [], "content": {}},
                                 {"header": {"msg_type": "stream"}, "msg_type": "stream", "parent_header": {},
                                  "content": []},
                                 {"header": {"msg_type": 5}, "msg_type": 5, "parent_header": {}, "content": {}},
                                 {"header": {"msg_type": "status"}, "msg_type": "status", "parent_header": {},
                                  "content": {"execution_state": ["idle"]}},
                                 {"header": [], "msg_type": "stream", "parent_header": {}, "content": {}}])
def test_what_is_not_well_formed(msg):
    assert not well_formed(msg)


def test_what_is_well_formed():
    assert well_formed({"header": {"msg_type": "status"}, "msg_type": "status", "parent_header": {},
                        "content": {"execution_state": "busy"}, "metadata": {}})
