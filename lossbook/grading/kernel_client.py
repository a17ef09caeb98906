"""jupyter_client's ``BlockingKernelClient`` made safe to point at a hostile kernel.

The grader runs cells with jupyter_client's own ``execute_interactive`` (send the request,
pass every IOPub message of that request to an output hook until its ``idle`` status, then
receive its ``execute_reply``). That loop trusts the kernel: it reads
``msg["parent_header"].get(...)``, ``msg["header"]["msg_type"]`` and
``msg["content"]["execution_state"]`` unchecked, and a message whose content is not JSON
raises out of ``Session.deserialize`` — a learner's code, which holds the kernel's session
key, can send either (attacks ``crash_iopub_parent_header``, ``crash_iopub_not_json``).

:class:`GuardedKernelClient` keeps jupyter_client's loop and guards what it reads: its
channels (:class:`GuardedChannel`) hand out only messages of the protocol's shape. A
message that does not deserialize (bad signature, content that is not JSON) or has the
wrong shape is consumed and replaced by :data:`DROPPED`, a well-formed message that
answers no request, which every reader of jupyter_client skips as "not mine". A channel
also has a deadline, so a kernel flooding messages that answer nothing cannot keep
``execute_interactive`` (whose own timeout only counts silence) from returning.

No grading policy lives here (timeouts, interrupts, kills, output limits, what a reply
means): that is :mod:`lossbook.grading.kernel`'s.
"""
from __future__ import annotations

import math
import time
from queue import Empty

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.channels import ZMQSocketChannel
from traitlets import Type

#: What a channel hands out in place of a message it dropped: well-formed, from no
#: request, of a type nobody acts on.
DROPPED_TYPE = "lossbook_dropped"


def dropped() -> dict:
    """A fresh :data:`DROPPED_TYPE` message (callers may mutate what they receive)."""
    return {"header": {"msg_type": DROPPED_TYPE, "msg_id": ""}, "msg_id": "", "msg_type": DROPPED_TYPE,
            "parent_header": {}, "metadata": {}, "content": {}, "buffers": []}


class DeadlineReached(TimeoutError):
    """A channel's deadline passed while messages kept coming (see :class:`GuardedChannel`)."""


def well_formed(msg) -> bool:
    """Whether ``msg`` has the shape jupyter_client's readers index without checking."""
    if not isinstance(msg, dict):
        return False
    header, parent, content = msg.get("header"), msg.get("parent_header"), msg.get("content")
    if not (isinstance(header, dict) and isinstance(parent, dict) and isinstance(content, dict)):
        return False
    kind = header.get("msg_type")
    if not isinstance(kind, str) or msg.get("msg_type") != kind or not isinstance(msg.get("metadata", {}), dict):
        return False
    if kind == "status" and not isinstance(content.get("execution_state"), str):
        return False
    return True


class GuardedChannel(ZMQSocketChannel):
    """A ZeroMQ channel that hands out well-formed messages only, and stops at a deadline.

    ``deadline`` (``time.monotonic()`` seconds; none by default): once past it,
    :meth:`get_msg` raises :class:`DeadlineReached` before reading, and a wait for a
    message never goes beyond it (``queue.Empty`` as usual).
    """

    deadline = math.inf

    def get_msg(self, timeout: float | None = None) -> dict:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineReached("the channel's deadline passed")
        if left != math.inf:
            timeout = left if timeout is None else min(timeout, left)
        try:
            msg = super().get_msg(timeout)
        except Empty:
            raise
        except Exception:  # noqa: BLE001 - undeserializable (signature, JSON): the kernel sent it, consumed
            return dropped()
        return msg if well_formed(msg) else dropped()


class GuardedKernelClient(BlockingKernelClient):
    """A ``BlockingKernelClient`` whose every channel is a :class:`GuardedChannel`.

    :meth:`follow` is ``execute_interactive`` for a request already sent: the grader sends
    a cell once and follows it in short turns, deciding between turns (deadlines, an
    interrupt, a dead kernel) what to do; jupyter_client's loop does the reading.
    """

    shell_channel_class = Type(GuardedChannel)
    iopub_channel_class = Type(GuardedChannel)
    stdin_channel_class = Type(GuardedChannel)
    control_channel_class = Type(GuardedChannel)

    _following: str | None = None

    def execute(self, code: str, *args, **kwargs) -> str:
        if self._following is not None:  # inside follow(): the request is already out
            return self._following
        return super().execute(code, *args, **kwargs)

    def _set_deadline(self, deadline: float) -> None:
        for channel in (self.shell_channel, self.iopub_channel):
            channel.deadline = deadline

    def follow(self, msg_id: str, output_hook, until: float) -> dict:
        """Run ``execute_interactive``'s loop for the request ``msg_id`` until ``until``.

        ``output_hook`` gets every (well-formed) IOPub message of the request, its ``idle``
        status included; returns the first well-formed shell message answering the request
        once the request is idle. Raises ``TimeoutError`` when ``until`` comes first (nothing
        is lost: call again to go on).
        """
        self._following = msg_id
        self._set_deadline(until)
        try:
            return self.execute_interactive("", allow_stdin=False, output_hook=output_hook,
                                            timeout=max(0.0, until - time.monotonic()))
        finally:
            self._following = None
            self._set_deadline(math.inf)

    def replies_to(self, msg_id: str, timeout: float, most: int) -> list[dict]:
        """Shell messages answering ``msg_id``: waits up to ``timeout`` seconds for the first
        (``0``: only those already here), then takes those already here; reads at most
        ``most`` messages."""
        found = []
        if timeout > 0:
            self.shell_channel.deadline = time.monotonic() + timeout
        try:
            for _ in range(most):
                try:
                    msg = self.shell_channel.get_msg(timeout=0 if found else timeout)
                except (Empty, DeadlineReached):
                    break
                if msg["parent_header"].get("msg_id") == msg_id:
                    found.append(msg)
        finally:
            self.shell_channel.deadline = math.inf
        return found

    def interrupt(self) -> None:
        """Send an ``interrupt_request`` on the control channel (the kernel's
        ``interrupt_mode`` is ``"message"``: the sandbox owns its process)."""
        self.control_channel.send(self.session.msg("interrupt_request", content={}))
