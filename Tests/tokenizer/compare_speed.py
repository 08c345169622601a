#!/usr/bin/env python3
"""Prints Hugging Face `tokenizers`' encode throughput on a corpus file, measured the way the
Swift test CorpusTests.testEncodeThroughput measures SwiftDSA's (best of 5 runs, warm cache):
each line encoded alone on one thread, all lines with encode_batch (all cores), and all lines
joined by newlines as one string. Run both on the same machine and compare.

    pip install tokenizers
    python3 Tests/tokenizer/compare_speed.py [--corpus FILE]
"""
import argparse
import json
import os
import time
from pathlib import Path

from tokenizers import Tokenizer

RESOURCES = Path(__file__).resolve().parent.parent / "TokenizerTests" / "Resources"
TOKENIZER = Path(__file__).resolve().parents[2] / "Sources" / "Tokenizer" / "Resources" / "deepseek-v3" / "tokenizer.json"


def best(body, runs=5):
    """The shortest of `runs` timings of `body()`, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=RESOURCES / "corpus.jsonl")
    parser.add_argument("--tokenizer", type=Path, default=TOKENIZER)
    args = parser.parse_args()
    tokenizer = Tokenizer.from_file(str(args.tokenizer))
    texts = [json.loads(line)["text"] for line in args.corpus.read_text(encoding="utf-8").split("\n") if line]
    joined = "\n".join(texts)
    megabytes = sum(len(t.encode()) for t in texts) / 1e6

    single = best(lambda: [tokenizer.encode(t) for t in texts])
    batch = best(lambda: tokenizer.encode_batch(texts))
    whole = best(lambda: tokenizer.encode(joined))
    print(f"tokenizers encode throughput on {args.corpus} ({megabytes:.3f} MB): "
          f"{megabytes / single:.2f} MB/s per line (1 thread), "
          f"{megabytes / batch:.2f} MB/s encode_batch ({os.cpu_count()} cores), "
          f"{megabytes / whole:.2f} MB/s as one string")


if __name__ == "__main__":
    main()
