"""SandboxedKernel.run_cell's message loop against a scripted client (no kernel, no sandbox).

The kernel is hostile: its execute_reply decides an error only when it is a well-formed
reply to this very request; forged, malformed or undeserializable replies are dropped,
and a forged "ok" never hides an "error". The attack corpus has the same cases graded
end to end in a real kernel (``execute_reply_*.toml``, ``output_flood_across_cells.toml``).
"""
from __future__ import annotations

import queue

import pytest

from lossbook.grading import kernel as kernel_module
from lossbook.grading.kernel import CellRun, SandboxedKernel
from lossbook.grading.run import _error_reason

MSG_ID = "request-1"


class Process:
    def poll(self):
        return None


class ScriptedClient:
    """Hands out the scripted iopub and shell messages (an item that is an exception is raised)."""

    def __init__(self, iopub, shell):
        self.iopub, self.shell = list(iopub), list(shell)

    def execute(self, code, **kwargs):
        return MSG_ID

    @staticmethod
    def _next(messages):
        if not messages:
            raise queue.Empty
        item = messages.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def get_iopub_msg(self, timeout=None):
        return self._next(self.iopub)

    def get_shell_msg(self, timeout=None):
        return self._next(self.shell)


def kernel_with(iopub, shell) -> SandboxedKernel:
    kernel = object.__new__(SandboxedKernel)
    kernel.client, kernel.process = ScriptedClient(iopub, shell), Process()
    return kernel


def iopub(kind, content, parent=MSG_ID):
    return {"msg_type": kind, "parent_header": {"msg_id": parent}, "content": content, "header": {"msg_type": kind},
            "metadata": {}}


def reply(content, parent=MSG_ID, kind="execute_reply"):
    return {"msg_type": kind, "parent_header": {"msg_id": parent}, "content": content}


IDLE = iopub("status", {"execution_state": "idle"})
PRINTED = iopub("stream", {"name": "stdout", "text": "1.5\n"})
JUNK = [reply({"status": "error", "ename": "Forged", "evalue": "x"}, parent="another"),
        reply({"status": "error"}, kind="kernel_info_reply"), reply([1, 2]), reply("error"),
        reply({"status": ["error"]}), reply({"status": "bogus"}), reply({"status": None}), reply({}),
        {"msg_type": "execute_reply", "parent_header": "x", "content": {"status": "error"}},
        {"msg_type": "execute_reply", "parent_header": [MSG_ID], "content": {"status": "error"}},
        ["not", "a", "message"], None, ValueError("Invalid Signature")]


def run(iopub_messages, shell_messages) -> CellRun:
    return kernel_with(iopub_messages, shell_messages).run_cell("x", timeout=30)


def test_an_ok_reply_after_forged_and_malformed_ones():
    cell = run([PRINTED, IDLE], [*JUNK, reply({"status": "ok"})])
    assert (cell.status, cell.reply_status) == ("ok", "ok")
    assert [o["text"] for o in cell.outputs] == ["1.5\n"]


def test_an_error_reply_without_an_error_output_is_an_error_named_from_the_reply():
    cell = run([PRINTED, IDLE], [reply({"status": "error", "ename": "ValueError", "evalue": "silenced"})])
    assert (cell.status, cell.reply_status) == ("error", "error")
    assert cell.error == ("ValueError", "silenced")
    assert _error_reason(cell) == "raised ValueError: silenced"


def test_an_error_reply_with_fields_of_the_wrong_type():
    cell = run([IDLE], [reply({"status": "error", "ename": 5, "evalue": ["x"] * 10})])
    assert cell.status == "error" and cell.error == ("", "")
    assert _error_reason(cell) == "raised an error without a name or a message"
    long = run([IDLE], [reply({"status": "error", "ename": "E" * 10_000, "evalue": "v" * 100_000})])
    assert long.error == ("E" * 200, "v" * 1000)


def test_a_forged_ok_never_hides_the_real_error():
    cell = run([IDLE], [reply({"status": "ok"}), reply({"status": "error", "ename": "KeyError", "evalue": "'a'"})])
    assert (cell.status, cell.reply_status, cell.error) == ("error", "error", ("KeyError", "'a'"))


def test_an_error_output_keeps_its_own_traceback():
    error = iopub("error", {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": ["tb"]})
    cell = run([error, IDLE], [reply({"status": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"})])
    assert cell.status == "error" and len(cell.outputs) == 1 and cell.outputs[0]["traceback"] == ["tb"]


def test_an_aborted_reply_is_an_error_with_its_own_reason():
    cell = run([IDLE], [reply({"status": "aborted"})])
    assert (cell.status, cell.reply_status, cell.error) == ("error", "aborted", None)
    assert _error_reason(cell) == "the kernel aborted the cell without running it (its execute_reply said \"aborted\")"


def test_no_reply_leaves_the_iopub_verdict(monkeypatch):
    monkeypatch.setattr(kernel_module, "REPLY_WAIT", 0.2)
    cell = run([PRINTED, IDLE], [])
    assert (cell.status, cell.reply_status) == ("ok", "")
    cell = run([iopub("error", {"ename": "E", "evalue": "v", "traceback": []}), IDLE], JUNK)
    assert (cell.status, cell.reply_status) == ("error", "")


@pytest.mark.parametrize("status", ["error", "aborted"])
def test_a_reply_never_turns_a_timeout_or_an_output_limit_into_an_error(status):
    big = iopub("stream", {"name": "stdout", "text": "x" * 200})
    cell = kernel_with([big, IDLE], [reply({"status": status})]).run_cell("x", timeout=30, max_output=100)
    assert cell.status == "output-too-large" and cell.reply_status == status


def test_an_iopub_message_that_does_not_deserialize_is_dropped():
    cell = run([ValueError("Expecting value: line 1 column 1 (char 0)"), PRINTED, IDLE], [reply({"status": "ok"})])
    assert (cell.status, cell.reply_status) == ("ok", "ok") and [o["text"] for o in cell.outputs] == ["1.5\n"]
