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
from jupyter_client.session import DELIM
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

    ``wanted`` (requests' ``msg_id`` values; none by default): a message whose parent
    header contains none of them answers another request and is consumed unparsed
    (handed out as :data:`DROPPED_TYPE`): reading one costs a ``recv`` and a bytes search,
    far less than the kernel spends signing it, where checking its signature and parsing
    its JSON (and dates) costs about as much. So a kernel flooding forged replies cannot
    outrun the grader and fill ZeroMQ's queue, past whose high-water mark the real
    ``execute_reply`` would be dropped (attack ``execute_reply_flood``).

    ``reads`` counts the messages taken off the socket (the grader compares it before
    and after a cell: an honest kernel sends one reply per request).
    """

    deadline = math.inf
    wanted: tuple[str, ...] | None = None
    reads = 0

    def get_msg(self, timeout: float | None = None) -> dict:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineReached("the channel's deadline passed")
        if left != math.inf:
            timeout = left if timeout is None else min(timeout, left)
        if not self.socket.poll(None if timeout is None else int(timeout * 1000)):
            raise Empty
        self.reads += 1
        return self._read(self.socket.recv_multipart())

    def _read(self, frames: list[bytes]) -> dict:
        """The message in ``frames`` if it is well-formed (and may answer ``wanted``), else :func:`dropped`."""
        try:
            start = frames.index(DELIM)
        except ValueError:
            return dropped()  # not a Jupyter message at all
        if self.wanted is not None and (len(frames) < start + 6
                                        or not any(w.encode() in frames[start + 3] for w in self.wanted)):
            return dropped()  # answers another request: never parsed
        try:
            msg = self.session.deserialize(frames[start + 1:])
        except Exception:  # noqa: BLE001 - undeserializable (signature, JSON): the kernel sent it, consumed
            return dropped()
        return msg if well_formed(msg) else dropped()

    def answers(self, msg_ids: tuple[str, ...], timeout: float, budget: float) -> list[dict]:
        """Well-formed messages answering one of the requests ``msg_ids``, read off the socket.

        Waits up to ``timeout`` seconds for the first message, then reads all that are
        already here, for at most ``budget`` seconds; those answering another request are
        dropped unparsed (see ``wanted``).
        """
        import zmq

        found: list[dict] = []
        if timeout > 0 and not self.socket.poll(int(timeout * 1000)):
            return found
        wanted, self.wanted = self.wanted, tuple(msg_ids)
        end = time.monotonic() + budget
        try:
            while time.monotonic() < end:
                try:
                    frames = self.socket.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self.reads += 1
                msg = self._read(frames)
                if msg["parent_header"].get("msg_id") in msg_ids:
                    found.append(msg)
        finally:
            self.wanted = wanted
        return found


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
    _replied: frozenset = frozenset()  # requests whose reply replies_to() has read

    def execute(self, code: str, *args, **kwargs) -> str:
        if self._following is not None:  # inside follow(): the request is already out
            return self._following
        return super().execute(code, *args, **kwargs)

    def _set_deadline(self, deadline: float, wanted: tuple[str, ...] | None = None) -> None:
        for channel in (self.shell_channel, self.iopub_channel):
            channel.deadline = deadline
        self.shell_channel.wanted = wanted

    def follow(self, msg_id: str, output_hook, until: float) -> dict:
        """Run ``execute_interactive``'s loop for the request ``msg_id`` until ``until``.

        ``output_hook`` gets every (well-formed) IOPub message of the request, its ``idle``
        status included; returns the first well-formed shell message answering the request
        once the request is idle. Raises ``TimeoutError`` when ``until`` comes first (nothing
        is lost: call again to go on).
        """
        self._following = msg_id
        self._set_deadline(until, (msg_id,))
        try:
            return self.execute_interactive("", allow_stdin=False, output_hook=output_hook,
                                            timeout=max(0.0, until - time.monotonic()))
        finally:
            self._following = None
            self._set_deadline(math.inf)

    def replies_to(self, msg_ids: tuple[str, ...], timeout: float, budget: float) -> list[dict]:
        """Shell messages answering one of ``msg_ids``: waits up to ``timeout`` seconds for
        a message to arrive (``0``: only those already here), then reads every message
        already here for at most ``budget`` seconds (see :meth:`GuardedChannel.answers`)."""
        found = self.shell_channel.answers(msg_ids, timeout, budget)
        if found:
            self._replied = self._replied | {msg["parent_header"]["msg_id"] for msg in found}
        return found

    async def _async_recv_reply(self, msg_id: str, timeout: float | None = None, channel: str = "shell") -> dict:
        """``execute_interactive``'s wait for the reply, once the request is idle; for a
        request followed by :meth:`follow` whose reply :meth:`replies_to` already read
        (between two turns of a long cell), none: returns :func:`dropped` at once. (Waiting
        would wait for a second reply until the turn ends; one that is on its way is
        found by the caller's check of the shell queue.)"""
        if channel == "shell" and msg_id == self._following and msg_id in self._replied:
            return dropped()
        return await super()._async_recv_reply(msg_id, timeout=timeout, channel=channel)

    @property
    def shell_reads(self) -> int:
        """Messages read off the shell socket so far (see :class:`GuardedChannel`)."""
        return self.shell_channel.reads

    def shell_pending(self) -> bool:
        """Whether a shell message is waiting to be read."""
        return bool(self.shell_channel.socket.poll(0))
