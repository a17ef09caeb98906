"""The grader's plain-text comparison gives nbval's own verdicts.

:func:`lossbook.grading.compare.compare` no longer calls nbval's internal
``IPyNbCell.compare_outputs``; here that method is the independent implementation: it
runs (on a stand-in for the pytest item, in this test only) with the course's sanitizer
and nbval's default skipped keys, on generated pairs of outputs, and the verdicts must
agree. (The grader drops ``stderr`` on both sides; so does the reference here.)
"""
from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import from_dict
from nbformat.v4 import new_output

from lossbook.grading.compare import SKIPPED_KEYS, compare, comparable, sanitize_patterns


def nbval_verdict(got, expected) -> bool:
    from nbval.plugin import IPyNbCell, coalesce_streams, nocolors

    def prepare(outputs):
        kept = [from_dict(copy.deepcopy(dict(o))) for o in outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        return coalesce_streams(kept)

    parent = SimpleNamespace(skip_compare=tuple(SKIPPED_KEYS), sanitize_patterns=sanitize_patterns())
    item = SimpleNamespace(parent=parent, colors=nocolors, comparison_traceback=[])
    item.sanitize = lambda s: IPyNbCell.sanitize(item, s)
    item.format_output_compare = lambda key, left, right: None
    return bool(IPyNbCell.compare_outputs(item, prepare(got), prepare(expected)))


TEXT = st.lists(st.sampled_from(["1.5", "2", "nan", " ", "\n", "\r", "0x7f3a", "0xBEEF", "/tmp/a1",
                                 "/tmp/zz", "[0.5, -inf]", "é", "\b"]), max_size=6).map("".join)


def _stream(name, text):
    return new_output("stream", name=name, text=text)


OUTPUT = st.one_of(
    st.builds(_stream, st.sampled_from(["stdout", "stdout", "stderr"]), TEXT),
    st.builds(lambda text, html, count: new_output("execute_result", {"text/plain": text, **html},
                                                  execution_count=count),
              TEXT, st.sampled_from([{}, {"text/html": "<b>x</b>"}]), st.integers(1, 9)),
    st.builds(lambda text, png: new_output("display_data", {"text/plain": text, **png}),
              TEXT, st.sampled_from([{}, {"image/png": "iVBOR"}, {"image/png": "AAAA"}])),
    st.builds(lambda ename, evalue: new_output("error", ename=ename, evalue=evalue, traceback=["t"]),
              st.sampled_from(["ValueError", "TypeError"]), TEXT),
)
OUTPUTS = st.lists(OUTPUT, max_size=5)


@st.composite
def pairs(draw):
    """Independent pairs, and pairs where one side is the other, reordered or lightly changed."""
    got = draw(OUTPUTS)
    how = draw(st.sampled_from(["independent", "same", "permuted", "changed", "rubbed", "split",
                                "addresses"]))
    if how == "independent":
        return got, draw(OUTPUTS)
    expected = copy.deepcopy(got)
    streams = [o for o in expected if o["output_type"] == "stream"]
    if how == "permuted":
        expected = draw(st.permutations(expected))
    elif how == "changed" and expected:
        index = draw(st.integers(0, len(expected) - 1))
        expected[index] = draw(OUTPUT)
    elif how == "rubbed" and streams:  # text before a carriage return on the same line
        stream = draw(st.sampled_from(streams))
        stream["text"] = draw(st.sampled_from(["junk\r", "a\rb\r", "\r", "x\r\n"])) + stream["text"]
    elif how == "split" and streams:  # one stream sent as two messages
        stream = draw(st.sampled_from(streams))
        cut = draw(st.integers(0, len(stream["text"])))
        tail = _stream(stream["name"], stream["text"][cut:])
        stream["text"] = stream["text"][:cut]
        expected.insert(draw(st.integers(expected.index(stream) + 1, len(expected))), tail)
    elif how == "addresses":  # what the sanitizer makes alike
        for out in expected:
            if "text" in out:
                out["text"] = out["text"].replace("0x7f3a", "0x1").replace("/tmp/a1", "/tmp/q")
    return got, expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_verdicts_are_nbvals(pair):
    got, expected = pair
    assert compare(got, expected)[0] == nbval_verdict(got, expected)


@pytest.mark.parametrize("got, expected, same", [
    # the sanitizer: addresses and temporary paths
    ([_stream("stdout", "at 0x7f00 in /tmp/a\n")], [_stream("stdout", "at 0x1234 in /tmp/b\n")], True),
    # streams are coalesced; stderr is dropped on both sides
    ([_stream("stdout", "1"), _stream("stderr", "warn"), _stream("stdout", ".5\n")],
     [_stream("stdout", "1.5\n")], True),
    # a carriage return rubs out its line's earlier text, as nbval does
    ([_stream("stdout", "50%\r100%\n")], [_stream("stdout", "100%\n")], True),
    # stdout cannot stand in for a displayed result, nor the other way round
    ([_stream("stdout", "1.5\n")], [new_output("execute_result", {"text/plain": "1.5"}, execution_count=1)], False),
    # different kinds of output may come in another order; one kind's order matters
    ([new_output("display_data", {"text/plain": "a"}), _stream("stdout", "x\n")],
     [_stream("stdout", "x\n"), new_output("display_data", {"text/plain": "a"})], True),
    ([new_output("display_data", {"text/plain": "a"}), new_output("display_data", {"text/plain": "b"})],
     [new_output("display_data", {"text/plain": "b"}), new_output("display_data", {"text/plain": "a"})], False),
    # images are not compared, their presence is not either
    ([new_output("display_data", {"text/plain": "fig", "image/png": "AAAA"})],
     [new_output("display_data", {"text/plain": "fig"})], True),
    # a stream named like a skipped key is ignored, as nbval ignores it
    ([_stream("stdout", "1\n"), {"output_type": "stream", "name": "metadata", "text": "forged"}],
     [_stream("stdout", "1\n")], True),
])
def test_known_cases_agree_with_nbval(got, expected, same):
    assert compare(got, expected)[0] is same
    assert nbval_verdict(got, expected) is same


def test_a_difference_is_explained_without_the_whole_output():
    same, why = compare([_stream("stdout", "2\n")], [_stream("stdout", "1.5\n")])
    assert not same and why == "stdout: expected '1.5\\n', got '2\\n'"
    assert compare([], [_stream("stdout", "1\n")]) == (False, "missing output: stdout")
    assert comparable([new_output("error", ename="E", evalue="0xABC", traceback=["x"])]) == {
        "ename": ["E"], "evalue": ["0xADDRESS"]}
