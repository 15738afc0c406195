"""Sentence windows: what the dense model reads for a passage, under each window plan."""

from __future__ import annotations

from ops_search.models import Chunk
from search.windows import DEFAULT_PLAN, WindowPlan, window_inputs, windows


def _sentences(n: int, words: int = 10) -> list[str]:
    return [" ".join([f"Sætning{i}"] + ["ord"] * (words - 2) + ["slut."]) for i in range(n)]


def _chunk(text: str) -> Chunk:
    return Chunk(
        id="c", document_id="d", title="Rammeaftale om takster", source="a.pdf", text=text,
        page_start=1, page_end=1, char_start=0, char_end=len(text), lang="da",
    )  # fmt: skip


def test_windows_are_whole_sentences_and_overlap_by_one():
    sentences = _sentences(20)  # 200 words → windows of at most 90 words
    out = windows(" ".join(sentences))
    assert len(out) > 1
    assert all(len(w.split()) <= 90 for w in out)
    for before, after in zip(out, out[1:], strict=False):
        last = before.split("Sætning")[-1]
        assert after.startswith("Sætning" + last.split()[0])  # the last sentence comes again


def test_without_overlap_each_sentence_is_in_one_window():
    sentences = _sentences(20)
    out = windows(" ".join(sentences), 45, overlap=False)
    assert " ".join(out) == " ".join(sentences)
    assert len(out) < len(windows(" ".join(sentences), 45))  # 5 windows against 7


def test_every_window_carries_the_document_title():
    inputs = window_inputs(_chunk(" ".join(_sentences(20))))
    assert len(inputs) > 1
    assert all(w.startswith("Rammeaftale om takster\n") for w in inputs)


def test_a_short_passage_is_one_window_under_a_whole_passage_plan():
    text = " ".join(_sentences(9))  # 90 words
    whole = window_inputs(_chunk(text), WindowPlan(words=45, whole_up_to=120))
    assert whole == [f"Rammeaftale om takster\n{text}"]
    assert len(window_inputs(_chunk(text), WindowPlan(words=45, whole_up_to=80))) > 1


def test_a_sentence_plan_adds_each_long_enough_sentence_as_a_window_of_its_own():
    sentences = _sentences(12) + ["Kort sætning her."]  # 120 words and one of three
    text = " ".join(sentences)
    plain = window_inputs(_chunk(text))
    both = window_inputs(_chunk(text), WindowPlan(sentences_from=8))
    assert both[: len(plain)] == plain  # the usual windows first, unchanged
    assert both[len(plain) :] == [f"Rammeaftale om takster\n{s}" for s in sentences[:12]]


def test_a_section_plan_reads_each_window_after_the_title_and_the_section_path():
    text = " ".join(_sentences(12))
    chunk = _chunk(text).model_copy(update={"section": "Rammeaftale om takster > Takster > 2024"})
    inputs = window_inputs(chunk, WindowPlan(section_context=True))
    assert len(inputs) == len(window_inputs(chunk)) > 1
    assert all(w.startswith("Rammeaftale om takster > Takster > 2024\n") for w in inputs)
    other = chunk.model_copy(update={"section": "Bilag 3"})  # a path without the title
    assert window_inputs(other, WindowPlan(section_context=True))[0].startswith(
        "Rammeaftale om takster > Bilag 3\n"
    )


def test_a_whole_too_plan_adds_the_whole_passage_when_it_has_several_windows():
    long_text = " ".join(_sentences(12))  # 120 words: two windows
    plain = window_inputs(_chunk(long_text))
    both = window_inputs(_chunk(long_text), WindowPlan(whole_too=True))
    assert both == [*plain, f"Rammeaftale om takster\n{long_text}"]
    short = " ".join(_sentences(5))  # one window already is the whole passage
    assert window_inputs(_chunk(short), WindowPlan(whole_too=True)) == window_inputs(_chunk(short))


def test_the_default_plan_is_the_one_indexes_are_built_with():
    text = " ".join(_sentences(24))
    assert window_inputs(_chunk(text)) == window_inputs(_chunk(text), DEFAULT_PLAN)
    assert WindowPlan(words=90, overlap=True, whole_up_to=0, sentences_from=0) == DEFAULT_PLAN
    assert not DEFAULT_PLAN.section_context and not DEFAULT_PLAN.whole_too
