#!/usr/bin/env python3
"""Writes how Hugging Face `tokenizers` pre-tokenizes two probe strings built around every
Unicode code point c: " " + c + "a" and c + c + ".". The piece lengths (in bytes) tell apart
every class the pre-tokenizer's patterns distinguish (letter/mark, number, CJK,
punctuation/symbol, newline, other whitespace, anything else), so the Swift test that redoes
this with `Tokenizer.preTokenize` checks the Unicode data of both engines on all code points.

Output: JSON [[first code point, code], ...], a new entry wherever the code changes; the code is
the piece lengths of the two probes, e.g. "1,1,1/2,1". Surrogates are skipped.

    pip install tokenizers
    python3 Tests/tokenizer/make_probes.py
"""
import argparse
import json
from pathlib import Path

from tokenizers import Tokenizer

RESOURCES = Path(__file__).resolve().parent.parent / "TokenizerTests" / "Resources"
TOKENIZER = Path(__file__).resolve().parents[2] / "Sources" / "Tokenizer" / "Resources" / "deepseek-v3" / "tokenizer.json"


def probes(c):
    """The two probe strings for code point character `c`."""
    return [" " + c + "a", c + c + "."]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", type=Path, default=TOKENIZER)
    parser.add_argument("--output", type=Path, default=RESOURCES / "pretokenizer_probes.json")
    args = parser.parse_args()
    pre_tokenizer = Tokenizer.from_file(str(args.tokenizer)).pre_tokenizer
    runs = []
    for value in range(0x110000):
        if 0xD800 <= value <= 0xDFFF:
            continue
        code = "/".join(
            ",".join(str(len(piece)) for piece, _ in pre_tokenizer.pre_tokenize_str(probe)) for probe in probes(chr(value))
        )
        if not runs or runs[-1][1] != code:
            runs.append([value, code])
    args.output.write_text(json.dumps(runs, separators=(",", ":")) + "\n")
    print(f"{args.output}: {len(runs)} runs, codes {sorted({code for _, code in runs})}")


if __name__ == "__main__":
    main()
