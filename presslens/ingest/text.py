"""Bytes -> text: decode a document in whatever common encoding it was saved in.

In:  the raw bytes of a file (already read; size checks happen in the caller).
Out: `decode(data) -> Decoded(text, encoding)`, or for big exports
     `open_text(data) -> (lazily decoding text stream, encoding)`; both raise
     `DecodeError(reason)` with a sentence a person understands ("looks like binary data
     (a PNG image), not text").

Order of the decisions, cheapest and least ambiguous first:

1. A byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) settles the encoding; the BOM is
   stripped and nothing else is touched.
2. Binary data is refused: known file signatures (PNG, PDF, ZIP/Office, ...), NUL bytes
   (unless the bytes are BOM-less UTF-16) or many control bytes.
3. Strict UTF-8: valid UTF-8 of any length is practically never a legacy 8-bit text, so it
   is accepted without running a detector (this is the fast path for nearly every file).
4. Otherwise a charset detector (charset-normalizer) proposes an encoding, and a sanity
   check scores its decoding against the legacy encodings used for ru/uk/ro/en news
   (cp1251, koi8-r, koi8-u, cp1250, iso-8859-2, cp1252); the decoding that reads most
   like real words wins (see score_text). Measured on single sentences (20-200 chars)
   from real ru/uk news and the ro seed, exact round trip: the detector alone got
   ru cp1251 96%, ru koi8-r 75% (it says Shift-JIS), uk cp1251 98%, uk koi8-u 79%,
   ro cp1250 65% and ro iso-8859-2 72% (it says iso-8859-16, turning ţ into ț);
   with the check 100% on all six (~840 samples), and 100/100 on ALL-CAPS Russian.
   Text that no candidate makes readable is refused as undecodable.
5. UTF-8 with a handful of corrupt bytes (a truncated download, a stray Latin-1 byte) is
   decoded as UTF-8 with U+FFFD for the bad bytes, and the encoding says so.

The decoded text is verbatim: no newline or Unicode normalisation, so offsets index it.
"""
from __future__ import annotations

import codecs
import io
import math
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes


class DecodeError(ValueError):
    """The bytes are not text we can decode; str(error) is the user-facing reason."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


# Longest first: the UTF-32 LE mark starts with the UTF-16 LE mark.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)

# File signatures of formats people drop into a corpus by mistake; named in the reason.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
)

# Bytes that do not occur in text: C0 controls except tab, LF, VT, FF, CR and ESC.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
# Share of control bytes above which a file is binary: text has none; binary formats
# have roughly 1 in 10. A few stray ones (an old ^Z terminator) are tolerated.
_MAX_CONTROL_SHARE = 0.01
# Binary checks look at the start of the file only: enough to see a format's structure.
_SNIFF_BYTES = 64 * 1024

# Legacy 8-bit encodings of ru/uk/ro/en news, in order of preference when two decode the
# bytes identically (e.g. Romanian letters sit at the same bytes in cp1250 and iso-8859-2).
LEGACY_ENCODINGS: tuple[str, ...] = ("cp1251", "koi8-r", "koi8-u", "cp1250", "iso-8859-2", "cp1252")

# UTF-8 damage tolerated before we call the text "not UTF-8": at most 20 invalid sequences,
# and at least 10 valid multi-byte characters per invalid one. Legacy Cyrillic or Romanian
# text is invalid UTF-8 on nearly every non-ASCII letter, so it never qualifies.
_UTF8_DAMAGE_MAX = 20

# The sanity check scores the non-ASCII words of this many characters of the decoded text.
_SCORE_CHARS = 200_000
# Below this average score per non-ASCII character no decoding reads like text. Measured:
# random high bytes 0.55-0.72 at best, UTF-8 read as cp1251 0.87; real text 1.7-3
# (ru seed 2.98, ro seed 2.16, shortest uk sentence 1.68).
_MIN_QUALITY = 1.0

# Letter frequencies of Russian news text (per letter, case-folded; the usual published
# table), with the Ukrainian-only letters added at their Ukrainian frequency. A cp1251 text
# read as KOI8 (or back) scrambles the alphabet, turning common letters into rare ones
# (о -> Н, а -> Ю, и -> Х), so log-frequency separates the two even in ALL-CAPS text.
_CYR_FREQ = {
    "о": 0.1097, "е": 0.0845, "а": 0.0801, "и": 0.0735, "н": 0.0670, "т": 0.0626,
    "с": 0.0547, "р": 0.0473, "в": 0.0454, "л": 0.0440, "к": 0.0349, "м": 0.0321,
    "д": 0.0298, "п": 0.0281, "у": 0.0262, "я": 0.0201, "ы": 0.0190, "ь": 0.0174,
    "г": 0.0170, "з": 0.0165, "б": 0.0159, "ч": 0.0144, "й": 0.0121, "х": 0.0097,
    "ж": 0.0094, "ш": 0.0073, "ю": 0.0064, "ц": 0.0048, "щ": 0.0036, "э": 0.0032,
    "ф": 0.0026, "ъ": 0.0004, "ё": 0.0004,
    "і": 0.0500, "ї": 0.0060, "є": 0.0040, "ґ": 0.0005, "ў": 0.0005,
}
# Score bonus per letter: log of its frequency relative to a uniform 1/33 alphabet
# (about +0.5 per letter on real text, about -1 on a scrambled one).
# Floored at -1 so that a rare but genuine letter (Ukrainian є) still beats a letter of
# another alphabet.
_CYR_LOG_FREQ = {
    c: max(-1.0, math.log(f * 33)) for low, f in _CYR_FREQ.items() for c in (low, low.upper())
}
_CYRILLIC = set(_CYR_LOG_FREQ)
_ROMANIAN = set("ăâîșțşţĂÂÎȘȚŞŢ")
# Typographic punctuation that legacy Windows code pages carry in 0x80-0xBF.
_PUNCT = set("“”„«»‘’‚–—…•€№°§©®™\u00a0·±")
# A word: a run of characters that are neither white space nor ASCII punctuation.
_WORD = re.compile(r"[^\s!-/:-@\[-`{-~]+")


def decode(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a document's bytes; raise DecodeError with a user-facing reason.

    `declared` is an encoding the file names itself (an HTML <meta charset>): it competes
    with the guesses when neither a BOM nor strict UTF-8 settles the encoding.
    """
    bom = _bom(data)
    if bom is not None:
        codec, label, skip = bom
        try:
            return Decoded(data[skip:].decode(codec), label)
        except UnicodeDecodeError as err:
            raise _bad_bom(label, codec, err.start + skip) from None
    utf16 = _refuse_binary(data)
    if utf16 is not None:
        return utf16
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    return _guess(data, declared)


def open_text(data: bytes, newline: str = "") -> tuple[io.TextIOBase, str]:
    """Like decode(), but returns (a text stream, the encoding) that decodes lazily.

    For exports: a 1 GB JSONL file is then never held as one decoded string next to its
    bytes and its records. `newline` is passed to the stream ("" keeps line ends as they
    are, for csv; "\n" splits lines at LF only, for JSONL). Raises DecodeError.
    """
    bom = _bom(data)
    if bom is not None:
        codec, label, skip = bom
        try:
            _validate(data, codec, skip)
        except UnicodeDecodeError as err:
            raise _bad_bom(label, codec, err.start + skip) from None
        return _stream(data[skip:], codec, newline), label
    utf16 = _refuse_binary(data)
    if utf16 is not None:
        return io.StringIO(utf16.text, newline=newline), utf16.encoding
    try:
        _validate(data, "utf-8", 0)
    except UnicodeDecodeError:
        guessed = _guess(data, None)
        return io.StringIO(guessed.text, newline=newline), guessed.encoding
    return _stream(data, "utf-8", newline), "utf-8"


def _bom(data: bytes) -> tuple[str, str, int] | None:
    """(codec, recorded label, BOM length) when the data starts with a byte-order mark."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return codec, label, len(bom)
    return None


def _bad_bom(label: str, codec: str, position: int) -> DecodeError:
    return DecodeError(
        f"could not be decoded: it starts with a {label.upper()} byte-order mark "
        f"but byte {position:,} is not valid {codec.upper()}"
    )


def _refuse_binary(data: bytes) -> Decoded | None:
    """Raise DecodeError for binary data; return the text of BOM-less UTF-16, else None."""
    head = data[:_SNIFF_BYTES]
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise DecodeError(f"looks like binary data ({what}), not text")
    if b"\x00" in head:
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            return utf16
        raise DecodeError("looks like binary data (it contains NUL bytes), not text")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_SHARE * len(head):
        raise DecodeError(
            f"looks like binary data ({controls} control bytes in the first {len(head):,} bytes), not text"
        )
    return None


def _guess(data: bytes, declared: str | None) -> Decoded:
    """Not UTF-8: damaged UTF-8, or the legacy encoding that reads best."""
    damaged = _damaged_utf8(data)
    if damaged is not None:
        return damaged
    return _decode_legacy(data, _codec_name(declared) if declared else None)


# Validation decodes in chunks of this size, so no full-size string is built.
_CHUNK = 4 * 1024 * 1024


def _validate(data: bytes, codec: str, skip: int) -> None:
    """Raise UnicodeDecodeError (positions relative to `skip`) unless data[skip:] decodes."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)[skip:]
    offset = 0
    try:
        for offset in range(0, len(view), _CHUNK):
            decoder.decode(view[offset : offset + _CHUNK], final=offset + _CHUNK >= len(view))
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        raise UnicodeDecodeError(err.encoding, err.object, offset + err.start, offset + err.end, err.reason) from None


def _stream(data: bytes, codec: str, newline: str) -> io.TextIOBase:
    return io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline=newline)


def _bomless_utf16(data: bytes) -> Decoded | None:
    """UTF-16 without a byte-order mark: NULs sit in every other byte of Latin text."""
    sample = data[: _SNIFF_BYTES & ~1]
    half = len(sample) // 2
    if half < 2:
        return None
    even_nul = sample[0::2].count(0) / half
    odd_nul = sample[1::2].count(0) / half
    codec = "utf-16-le" if odd_nul > 0.3 and even_nul < 0.05 else "utf-16-be" if even_nul > 0.3 and odd_nul < 0.05 else None
    if codec is None or len(data) % 2:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    head = text[:1000]
    if sum(1 for c in head if c < " " and c not in "\t\n\r\f\v\x1b") > _MAX_CONTROL_SHARE * len(head):
        return None
    return Decoded(text, codec)


def _damaged_utf8(data: bytes) -> Decoded | None:
    """Mostly valid UTF-8 with a few corrupt bytes -> UTF-8 with U+FFFD replacements."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if not 0 < bad <= _UTF8_DAMAGE_MAX:
        return None
    multibyte = sum(1 for c in text[:_SCORE_CHARS] if c > "\x7f" and c != "\ufffd")
    if multibyte >= 10 * bad:
        plural = "s" if bad > 1 else ""
        return Decoded(text, f"utf-8 ({bad} invalid byte sequence{plural} replaced by U+FFFD)")
    return None


def _decode_legacy(data: bytes, declared: str | None = None) -> Decoded:
    """Pick among the declared encoding, the detector's guess and the legacy encodings by
    how text-like they read. Pages do lie about their charset, hence no blind trust."""
    # Ties go to the first candidate: the detector's pick when it is one of the usual
    # encodings (it tells cp1252 French from cp1250 Czech, which score alike), otherwise
    # the usual encodings first (iso-8859-16 and cp1250 read Romanian alike; cp1250 is
    # by far the more common).
    # Candidates are judged on a sample, so a big file is not decoded seven times over;
    # only the winner decodes the whole file (and if it fails later on, the runner-up).
    sample = data[:_SAMPLE_BYTES]
    candidates: dict[str, str] = {}
    if declared:
        _add_candidate(candidates, declared, sample)
    detected = _detect(sample)
    if detected is not None and detected[0] in LEGACY_ENCODINGS and detected[0] not in candidates:
        candidates[detected[0]] = detected[1]
    for codec in LEGACY_ENCODINGS:
        _add_candidate(candidates, codec, sample)
    if detected is not None and detected[0] not in candidates:
        candidates[detected[0]] = detected[1]
    ranked: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for order, (name, text) in enumerate(candidates.items()):
        if text in seen:  # identical decodings: the earlier (preferred) name keeps them
            continue
        seen.add(text)
        score, n = score_text(text)
        ranked.append((score / n, -order, name))
    ranked.sort(reverse=True)
    for quality, _, name in ranked:
        if quality < _MIN_QUALITY:
            break
        try:
            return Decoded(data.decode(name), name)
        except UnicodeDecodeError:
            continue
    tried = ", ".join(LEGACY_ENCODINGS)
    raise DecodeError(
        "could not be decoded: it is not valid UTF-8 and no common encoding "
        f"({tried}) turns its bytes into readable text"
    )


# Bytes of a non-UTF-8 file that the candidate encodings are judged on: about 100,000
# Cyrillic letters, far more than any judgement needs, and cheap to decode seven times.
_SAMPLE_BYTES = 256 * 1024


def _add_candidate(candidates: dict[str, str], codec: str, sample: bytes) -> None:
    """Decode the sample with `codec` (a character cut at the sample's end is dropped)."""
    if codec in candidates:
        return
    try:
        candidates[codec] = codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        pass


def _detect(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best guess as (codec name, decoded text), or None."""
    try:
        match = from_bytes(data).best()
    except Exception:  # a detector bug must not lose the file: the candidates remain
        return None
    if match is None:
        return None
    name = _codec_name(match.encoding)
    return (name, str(match)) if name else None


def _codec_name(label: str) -> str | None:
    """An encoding label -> the codec name we record, or None if unknown or not usable.

    Only encodings that keep ASCII as ASCII (not EBCDIC cp037, not UTF-7/16): corpus
    files are at least partly Latin-script markup and digits, and candidate scores are
    only comparable between such encodings. Latin-1 labels mean cp1252, as browsers do.
    """
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
        if _ASCII_PROBE.decode(name) != _ASCII_PROBE.decode("ascii"):
            return None
    except (LookupError, UnicodeDecodeError, ValueError):
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    return _CANONICAL.get(name, name)


_ASCII_PROBE = bytes(range(32, 127)) + b"\t\n\r"


# codecs.lookup() names -> the spellings people know.
_CANONICAL = {"iso8859-2": "iso-8859-2", "iso8859-5": "iso-8859-5", "iso8859-16": "iso-8859-16"}


def score_text(text: str) -> tuple[float, int]:
    """How much `text` reads like real words: (score, number of non-ASCII characters).

    Only words containing non-ASCII characters are looked at (ASCII decodes the same in
    every candidate). Per character: +2 for a letter of the expected alphabets (Cyrillic
    of ru/uk, Romanian diacritics), -1 for other Cyrillic letters (Kazakh Ғ, Serbian Ђ),
    +1.25 for Western European letters (é, ü), +1 for any other letter or common
    typographic punctuation, +0.25 more for a lower-case letter (real text is mostly lower case; a
    cp1251/KOI8 mix-up swaps case), -2 for other symbols, -5 for control or unassigned
    characters. Cyrillic letters also add 1.5 x their log-frequency in Russian/Ukrainian (see
    _CYR_FREQ), so a scrambled alphabet (cp1251 read as KOI8) loses even when every
    character is a Cyrillic letter. Per word: -3 for each lower-to-upper case switch
    inside it ("сЕВЕРНАЯ", "РѕСЃ"), -2 per letter for words mixing Cyrillic and Latin.
    """
    score = 0.0
    count = 0
    for word in _WORD.findall(text, 0, _SCORE_CHARS):
        if word.isascii():
            continue
        has_cyr = has_lat = False
        prev_lower = False
        for c in word:
            is_letter = c.isalpha()
            if c > "\x7f":
                count += 1
                if c in _CYRILLIC:
                    score += 2 + 1.5 * _CYR_LOG_FREQ[c]
                elif c in _ROMANIAN:
                    score += 2
                elif "\u0400" <= c <= "\u04ff":
                    score -= 1  # Cyrillic letters of other languages (Ғ, Ђ, Ќ): suspect here
                elif "\u00c0" <= c <= "\u00ff" and is_letter:
                    score += 1.25  # Western European letters (é, ü) in names and quotes
                elif is_letter or c in _PUNCT:
                    score += 1
                elif c.isprintable():
                    score -= 2
                else:
                    score -= 5
                if is_letter and c.islower():
                    score += 0.25
            if is_letter:
                if c in _CYRILLIC:
                    has_cyr = True
                elif c.isascii() or "\u00c0" <= c <= "\u024f" or c in _ROMANIAN:
                    has_lat = True
                upper = c.isupper()
                if upper and prev_lower:
                    score -= 3
                prev_lower = c.islower()
            else:
                prev_lower = False
        if has_cyr and has_lat:
            score -= 2 * sum(1 for c in word if c.isalpha())
    return score, max(count, 1)
