"""Boilerplate repeated across documents is shown once, with its best document and a count,
and does not crowd the answers out of the first page."""

from __future__ import annotations

from search.dedupe import near_duplicates, shingles
from search.index import Index
from search.query import Searcher, SearchRequest
from tests.conftest import quiet_reporter

NOTE = (
    "Bemærk: Oplysningerne på denne side gælder for alle kommuner i regionen. Kontakt "
    "sekretariatet for partnerskabet, hvis du har spørgsmål til aftalen om takster og "
    "leverancer, eller hvis du vil have tilsendt aftalen i en anden form."
)
TOPICS = [
    "Roskilde Kommune har indgået en rammeaftale om botilbud med tre private leverandører.",
    "Køge Kommune tester velfærdsteknologi i hjemmeplejen sammen med en lokal virksomhed.",
    "Holbæk Kommune udbyder rengøring af skolerne i et offentlig-privat partnerskab.",
    "Næstved Kommune samarbejder med erhvervsskolen om praktikpladser i byggeriet.",
    "Slagelse Kommune har fornyet aftalen om madservice til ældre borgere.",
    "Lejre Kommune og en privat aktør driver sammen et aktivitetscenter for unge.",
]


def test_near_duplicates_are_passages_sharing_most_of_their_word_triples():
    changed = NOTE.replace("alle kommuner", "alle 17 kommuner")
    assert near_duplicates(shingles(NOTE), shingles(NOTE.upper()))  # case and punctuation
    assert near_duplicates(shingles(NOTE), shingles(changed))  # one word more
    assert not near_duplicates(shingles(NOTE), shingles(NOTE[: len(NOTE) // 2]))
    assert not near_duplicates(shingles(TOPICS[0]), shingles(TOPICS[1]))
    assert not near_duplicates(shingles(""), shingles(""))


def test_boilerplate_on_many_documents_is_one_hit_with_a_count(
    tmp_path, settings, embedder, shared_cache
):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, topic in enumerate(TOPICS):
        town = topic.split()[0]
        story = " ".join(
            [topic]
            + [f"{town} har i {year} brugt {year - 2000} mio. kr. på indsats nummer {n}."
               for n, year in enumerate(range(2010 + i, 2022 + i))]
        )  # fmt: skip
        # A section of its own for the note, long enough news to be chunked apart from it.
        text = f"# Nyhed fra {town}\n\n## Aftalen\n\n{story}\n\n## Kontakt\n\n{NOTE}\n"
        (folder / f"nyhed-{i}.md").write_text(text, "utf-8")
    settings = settings.model_copy(update={"cache_dir": shared_cache})
    with Index.open(settings, role="test", embedder=embedder) as index:
        summary = index.ingest([folder], quiet_reporter())
        assert summary.ingested == len(TOPICS), summary
        searcher = Searcher(index)
        hits = searcher.search(
            SearchRequest(query="spørgsmål til aftalen om takster og leverancer", limit=4)
        ).hits
    with_note = [h for h in hits if "Kontakt sekretariatet" in h.text]
    assert len(with_note) == 1, [h.text for h in hits]
    assert with_note[0].repeats == len(TOPICS) - 1
    # The rest of the page is the documents' own news, not the note again.
    assert len(hits) == 4 and all(h.repeats == 0 for h in hits if h is not with_note[0])
    assert all("Kontakt sekretariatet" not in h.text for h in hits if h is not with_note[0])
