#!/usr/bin/env bash
# Text in, text out, on the embedded default model (129280 vocabulary, DeepSeek-V3 tokenizer):
# tokenize against the `tokenizers` library, streaming generate and chat alone and under
# mpirun -np 2 (same seed, same text), a 64-line batch file equal line by line to running each
# prompt alone, --resume after an interruption, and clear errors for bad input.
set -u
. Tests/e2e/lib.sh
export DSA DSA_HOME="$WORK/home"
RUN="launch/mpirun.sh"
$DSA inspect >/dev/null  # writes the default model

tokenize_matches() {
  local text=$1 ours theirs
  ours=$($DSA tokenize --text "$text")
  theirs=$(python3 -c "import sys, tokenizers; t = tokenizers.Tokenizer.from_file('Sources/Tokenizer/Resources/deepseek-v3/tokenizer.json'); print(t.encode(sys.argv[1], add_special_tokens=False).ids)" "$text")
  [ "$ours" = "$theirs" ] && echo "$ours" || { echo "dsa $ours != tokenizers $theirs"; return 1; }
}
check "tokenize = tokenizers (English)" tokenize_matches "Hello, world! It's 2026-11-30 and 1234567 tokens."
check "tokenize = tokenizers (CJK, emoji, specials)" tokenize_matches $'中文字符 日本語のテキスト 👩‍👩‍👧 <｜User｜>hi<｜Assistant｜>\t\r\n  x'
roundtrip() { local t; t=$($DSA detokenize --ids "$($DSA tokenize --text "$1")"); [ "$t" = "$1" ] && echo "ok: $t" || { echo "got '$t'"; return 1; }; }
check "detokenize(tokenize(x)) = x" roundtrip "naïve café — ∑ 😀 text"

big_corpus() {  # 1 MB of varied text: dsa's ids = tokenizers' ids, and both encode speeds in one run
  python3 Tests/tokenizer/make_corpus.py --size 1000000 --output "$WORK/big.jsonl" --decode-output "" >/dev/null || return 1
  $DSA tokenize --file "$WORK/big.jsonl" --jsonl > "$WORK/big.ids" 2> "$WORK/big.log" || return 1
  python3 - "$WORK/big.jsonl" "$WORK/big.ids" "$(grep -o 'encode_s=[0-9.]*' "$WORK/big.log" | cut -d= -f2)" <<'PY'
import json, os, sys, time
from tokenizers import Tokenizer
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ours = [json.loads(l) for l in open(sys.argv[2])]
assert len(ours) == len(rows), (len(ours), len(rows))
bad = [i for i, (r, o) in enumerate(zip(rows, ours)) if r["ids"] != o]
assert not bad, f"{len(bad)} lines differ, first {bad[0] + 1}"
megabytes = sum(len(r["text"].encode()) for r in rows) / 1e6
t = Tokenizer.from_file("Sources/Tokenizer/Resources/deepseek-v3/tokenizer.json")
texts = [r["text"] for r in rows]
start = time.perf_counter()
t.encode_batch(texts, add_special_tokens=False)
theirs = time.perf_counter() - start
mine = float(sys.argv[3])
print(f"{len(rows)} lines, {megabytes:.2f} MB: ids equal; encode_batch on {os.cpu_count()} cores: dsa {megabytes / mine:.2f} MB/s, "
      f"tokenizers {megabytes / theirs:.2f} MB/s: {theirs / mine:.1f}x")
PY
}
check "1 MB corpus: ids = tokenizers, speed compared" big_corpus

same_output() {  # same_output ARGS...: one process and mpirun -np 2 print the same
  local one two
  one=$($DSA "$@") && two=$($RUN -n 2 "$@") || { echo "failed: $one $two"; return 1; }
  [ -n "$one" ] && [ "$one" = "$two" ] && echo "${one:0:60}" || { echo "1 rank: $one"; echo "2 ranks: $two"; return 1; }
}
check "generate --prompt, 1 rank = 2 ranks (seed)" same_output generate --prompt "The capital of France is" --max-tokens 24 --temperature 0.8 --seed 7
without_timings() { "$@" | python3 -c "import json, sys; d = json.load(sys.stdin); [d.pop(k) for k in ('timings', 'ranks')]; print(json.dumps(d))"; }
same_json() {  # same_json ARGS...: the same JSON result apart from timings and rank count
  local one two
  one=$(without_timings $DSA "$@") && two=$(without_timings $RUN -n 2 "$@") || return 1
  [ "$one" = "$two" ] && echo "${one:0:60}" || { echo "1 rank: $one"; echo "2 ranks: $two"; return 1; }
}
check "generate --chat --json, 1 rank = 2 ranks" same_json generate --prompt "Say hi" --chat --max-tokens 16 --json --temperature 0.7 --seed 3 --top-p 0.9
chat_session() { printf 'Hello there\nTell me more\n' | "$@" chat --max-tokens 12 --temperature 0.6 --seed 5; }
chat_matches() {
  local one two
  one=$(chat_session $DSA) && two=$(chat_session $RUN -n 2) || return 1
  [ "$(grep -c '^> ' <<<"$one")" -ge 2 ] && [ "$one" = "$two" ] && echo "two turns, same on 2 ranks" || { echo "$one"; echo "$two"; return 1; }
}
check "chat: two turns, Ctrl-D exits, 1 rank = 2 ranks" chat_matches

# A 64-line batch: prompts, chat messages, per-line sampling, one malformed line.
python3 - "$WORK/batch.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(64):
        if i == 17:
            f.write("{not json\n"); continue
        line = {"id": f"req-{i}", "max_tokens": 8 + i % 5, "temperature": 0.0 if i % 3 else 0.8, "seed": i}
        if i % 4 == 0:
            line["messages"] = [{"role": "user", "content": f"Question {i}: what is {i} + {i}?"}]
        else:
            line["prompt"] = f"Story {i}: once upon a time" + " there" * (i % 7)
        f.write(json.dumps(line) + "\n")
PY
batch() {  # batch OUT MAXBATCH [RUNNER...]
  local out=$1 mb=$2; shift 2
  "$@" generate --input "$WORK/batch.jsonl" --output "$out" --max-batch "$mb" 2>"$out.err"
}
check "batch of 64 (batch 16) runs, one error record" batch "$WORK/b16.jsonl" 16 $DSA
check "batch of 64 one at a time" batch "$WORK/b1.jsonl" 1 $DSA
check "batch of 64 under mpirun -np 2" batch "$WORK/b16n2.jsonl" 16 $RUN -n 2
batch_lines_equal() {
  python3 - "$@" <<'PY'
import json, sys
rows = [[json.loads(l) for l in open(p)] for p in sys.argv[1:]]
assert all(len(r) == 64 for r in rows), [len(r) for r in rows]
for lines in zip(*rows):
    assert all(l == lines[0] for l in lines), lines
errors = [l for l in rows[0] if "error" in l]
assert len(errors) == 1 and errors[0]["line"] == 18, errors
print("64 lines equal, error record for line 18:", errors[0]["error"])
PY
}
check "batched results = one-at-a-time = 2 ranks, line by line" batch_lines_equal "$WORK/b16.jsonl" "$WORK/b1.jsonl" "$WORK/b16n2.jsonl"
throughput() { echo "batch 16: $(tail -1 "$WORK/b16.jsonl.err"); batch 1: $(tail -1 "$WORK/b1.jsonl.err")"; }
check "aggregate tokens/s reported" throughput
resume_works() {
  head -c 2500 "$WORK/b16.jsonl" > "$WORK/resumed.jsonl"  # an interrupted run: some lines and a torn one
  $DSA generate --input "$WORK/batch.jsonl" --output "$WORK/resumed.jsonl" --resume --max-batch 16 2>/dev/null &&
  cmp "$WORK/resumed.jsonl" "$WORK/b16.jsonl" && echo "resumed output = uninterrupted output"
}
check "--resume completes an interrupted batch" resume_works

check "negative temperature refused" fails_with "temperature must be 0" $DSA generate --prompt hi --temperature=-1
check "top-p outside (0,1] refused" fails_with "top_p must be in (0, 1]" $DSA generate --prompt hi --top-p 1.5
check "prompt longer than the context refused" fails_with "context limit is 8" $DSA generate --prompt "a b c d e f g h i j k" --max-context 8
check "text prompt on a model without tokenizer refused" fails_with "no tokenizer.json" $DSA generate --model Tests/DeepSeekTests/Resources/tiny-public --prompt hi
nothing_printed() { local out; out=$($DSA generate --prompt hi --top-k=-2 2>/dev/null); [ -z "$out" ] && echo "stdout empty"; }
check "bad input prints nothing on stdout" nothing_printed
summary text
