#!/usr/bin/env python3
"""Writes the tokenizer test corpus: JSON lines {"text", "ids", "plain_ids"} with the ids that
Hugging Face `tokenizers` gives for DeepSeek-V3's tokenizer.json.

"ids" is `encode(text)` (added tokens such as <｜User｜> matched whole); "plain_ids" (only on
lines where it differs) is the encoding with no added tokens at all, i.e. Swift's
`encode(text, allowSpecial: false)`. A second file holds random id sequences (many of them
splitting or breaking UTF-8) with `tokenizers`' decoded text: {"ids", "text", "text_skip_special"}. The text is generated deterministically (seeded, no network)
from hand-written samples of prose, code, CJK, emoji, odd whitespace, control characters and
special-token strings, plus random strings of tricky characters.

    pip install tokenizers
    python3 Tests/tokenizer/make_corpus.py                      # the ~200 KB test resource
    python3 Tests/tokenizer/make_corpus.py --size 1200000 --output /tmp/big.jsonl --decode-output ""
"""
import argparse
import json
import random
from pathlib import Path

from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
RESOURCES = HERE.parent / "TokenizerTests" / "Resources"
TOKENIZER = Path(__file__).resolve().parents[2] / "Sources" / "Tokenizer" / "Resources" / "deepseek-v3" / "tokenizer.json"

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times; it was the age of wisdom.",
    "Dr. O'Neill's lab (est. 1987) didn't publish until 2003 - and even then, only half of it.",
    "\"Well,\" she said, \"I'd rather not.\" He replied: 'Why not?'",
    "Mixture-of-experts models route each token to a few of many feed-forward experts.",
    "Prices rose 3.75% in Q3 2024, to $1,299.99 per unit (vs. €1.050,00 last year).",
    "E-mail me at jane.doe+test@example.com or visit https://example.org/path?q=1&r=two#frag.",
    "I'm, you're, we've, they'll, she's, it'd, can't, won't, shan't, y'all'd've.",
    "   Leading spaces, and trailing spaces   ",
    "ALL CAPS SENTENCE WITH ACRONYMS LIKE NASA, HTTP/2 AND GPU-TPU INTEROP.",
    "camelCaseIdentifier snake_case_identifier kebab-case-identifier PascalCase SCREAMING_CASE",
    "Footnote¹, footnote², ½ cup, ¾ mile, 10⁻³ m, x₁ + x₂ = 5, № 7, 2nd, 3rd, 4th.",
    "The café's naïve façade — a résumé of coöperation — was déjà vu.",
    "Ünïcödé ẗëẍẗ wïẗḧ ḋïäċṙïẗïċṡ ąę łń śźż čšž ğış ÆØÅ æøå ß ẞ Œ œ",
]

CODE = [
    'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    "func greet(_ name: String) -> String {\n    guard !name.isEmpty else { return \"Hello, world!\" }\n    return \"Hello, \\(name)!\"\n}\n",
    "#include <stdio.h>\n\nint main(int argc, char **argv) {\n\tfor (int i = 0; i < argc; ++i) {\n\t\tprintf(\"%d: %s\\n\", i, argv[i]);\n\t}\n\treturn 0;\n}\n",
    "fn main() {\n    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
    "const sum = (xs) => xs.reduce((a, b) => a + b, 0);\nconsole.log(`total: ${sum([1, 2, 3])}`);\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tch := make(chan int, 3)\n\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}\n",
    "SELECT u.id, COUNT(*) AS n\nFROM users u\nJOIN orders o ON o.user_id = u.id\nWHERE o.created_at >= '2024-01-01'\nGROUP BY u.id\nHAVING n > 10;\n",
    "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}' >> counts.log 2>&1\ndone\n",
    '{"name": "swift-dsa", "version": "0.1.0", "tags": ["llm", "cpu"], "nested": {"a": [1, 2.5, -3e10, null, true]}}',
    '<!DOCTYPE html>\n<html lang="en">\n  <body>\n    <div class="x" id=\'y\'>&lt;tag&gt; &amp; &#169;</div>\n  </body>\n</html>\n',
    "\\begin{equation}\n  E = mc^2 \\quad \\text{and} \\quad \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n\\end{equation}\n",
    "x+=1;y-=2;z*=3;w/=4;a%=5;b<<=1;c>>=2;d&=e|f^g;h=!i&&j||k;l=m?n:o;p->q;r::s;t=>u;v===w!==x;",
    "    indented with four spaces\n\tindented with a tab\n  \t mixed indent\n",
    "# Title\n\n* item one\n* item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n",
]

CJK = [
    "深度求索发布了新的语言模型，它在数学和编程方面表现出色。",
    "我们今天去公园散步吧！天气很好，阳光明媚。",
    "人工智能（AI）正在改变世界：从医疗到金融，无处不在。",
    "这是一个测试句子，包含数字123和英文words混合。",
    "日本語のテキストです。ひらがな、カタカナ、漢字が混ざっています。",
    "東京タワーは１９５８年に完成しました。高さは３３３メートルです。",
    "コンピューター・サイエンスを勉強しています。ゔぁ ゟ ヿ ヷ ｶﾀｶﾅ ﾊﾝｶｸ",
    "한국어 문장입니다. 안녕하세요, 만나서 반갑습니다!",
    "서울특별시 강남구 테헤란로 123번길 45-6",
    "繁體中文與简体中文混合：臺灣、台湾、龍、龙、𠀀𪚥𡈽 (extension B).",
    "「引用」『二重引用』【括弧】〈山括弧〉《二重山括弧》〔亀甲〕…‥・〜〇々〆",
]

EMOJI = [
    "I love it! 😀😃😄😁😆 🎉🎊 ❤️ ♥ ☺️ ✨",
    "Family: 👨‍👩‍👧‍👦 couple: 👩‍❤️‍👨 tech: 👩🏽‍💻 👨🏿‍🔬 🧑‍🚀",
    "Skin tones: 👍🏻👍🏼👍🏽👍🏾👍🏿 waving 👋🏾",
    "Flags: 🇺🇸 🇨🇳 🇯🇵 🇰🇷 🇩🇪 🇫🇷 🇬🇧 🏴‍☠️ 🏳️‍🌈 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ and symbols ©️ ®️ ™️ ↔️ ⬆️",
    "Mixed😀text🚀without🔥spaces and 🤖:robot: :smile:",
    "𝕳𝖊𝖑𝖑𝖔 𝓦𝓸𝓻𝓵𝓭 𝟙𝟚𝟛 ℌℑℜ ⅀ ∑ ∫ ∂ √ ∞ ≠ ≤ ≥ ∀ ∃ ∈ ∉ ⊂ ⊆",
]

SCRIPTS = [
    "Привет, мир! Как дела? Съешь же ещё этих мягких французских булок.",
    "Γειά σου κόσμε! Αλφάβητο: αβγδεζηθικλμνξοπρστυφχψω ΑΒΓΔ.",
    "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣٤٥ وعلامات ترقيم؟",
    "שלום עולם! זהו טקסט בעברית עם ניקוד: בְּרֵאשִׁית בָּרָא.",
    "नमस्ते दुनिया! यह हिंदी पाठ है। संख्या: १२३४",
    "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "Tiếng Việt có nhiều dấu: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ đ ơ ư.",
    "Combining: e\u0301 a\u0300 o\u0302 n\u0303 u\u0308 i\u0307\u0301 z\u0335\u0336 A\u030a vs Å",
    "Zalgo: h\u0337\u0311e\u0335\u0314l\u0334\u0306l\u0336\u0303o\u0338\u0350",
    "RTL mark\u200f and LTR mark\u200e, isolate \u2067مرحبا\u2069 embedded \u202bעברית\u202c.",
    "ქართული ენა, Հայերեն, አማርኛ, ᏣᎳᎩ, ᚠᚢᚦᚨᚱᚲ, ꦗꦮ, 𐌰𐌱𐌲 (Gothic).",
    "Mixed: Hello世界Привет123مرحبا🙂こんにちは안녕",
]

DIGITS = [
    "1234567890123456789012345678901234567890",
    "3.14159265358979323846264338327950288419716939937510",
    "Phone: +1 (555) 123-4567, ID 0000012345, year 1999/2000/2024.",
    "Arabic-Indic ٠١٢٣٤٥٦٧٨٩, Devanagari ०१२३, fullwidth ０１２３４５, Roman Ⅰ Ⅱ Ⅻ ⅿ, circled ①②③⑳",
    "1,000,000 1.000.000 1 000 000 1e-9 0x1F 0b1010 0o777 1_000_000 12:34:56.789",
    "99999999999999999999999999999999999999999999999999999999999999999999999999",
]

WHITESPACE = [
    "tab\tseparated\tvalues\t\tdouble tab",
    "windows\r\nline\r\nendings\r\n",
    "old mac\rline\rendings\r",
    "multiple     spaces     between     words",
    "trailing spaces   \nand tabs\t\t\nhere",
    "\n\n\nleading newlines and trailing ones\n\n\n",
    "lone\nnewlines\nbetween\nwords\n",
    "no\u00a0break\u00a0space and\u2009thin\u2009space and\u3000ideographic\u3000space",
    "line\u2028separator and paragraph\u2029separator and next\u0085line",
    "vertical\x0btab and form\x0cfeed",
    "zero\u200bwidth\u200bspace, joiner\u200d, non-joiner\u200c, BOM\ufeff, soft\u00adhyphen",
    "  \n  \n\t\n \r\n   \t  x  \t\n",
    " \n",
    "\t",
    "   ",
    "a \n b \r\n c \t\n d",
]

CONTROL = [
    "null\x00byte and bell\x07 and escape\x1b[31mred\x1b[0m and delete\x7f",
    "C1 controls: \x80\x85\x9f and \x01\x02\x03\x1f",
    "private use \ue000\uf8ff, noncharacters \ufdd0\ufffe\uffff, unassigned \u0378\u0379\u0380, replacement \ufffd",
    "plane 15/16 private use \U000f0000\U0010fffd, max \U0010ffff",
]

SPECIAL = [
    "<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>Hi!<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜>",
    "<｜User｜>What is 2+2?<｜Assistant｜><think>2+2 is 4.</think>The answer is 4.<｜end▁of▁sentence｜>",
    "Text mentioning <｜User｜> and <｜end▁of▁sentence｜> inline, and <think>thoughts</think> too.",
    "Near misses: <｜User|> <|User｜> <｜User ｜> <｜user｜> <think > < think> </ think> <thinking> <<think>> <｜User｜｜>",
    "Prefixes: <｜User <｜User｜ <｜end▁of▁sentence <think </think <｜place▁holder▁no▁1 <｜",
    "<|EOT|> <｜▁pad▁｜> <｜fim▁hole｜><｜fim▁begin｜>code<｜fim▁end｜> <｜place▁holder▁no▁42｜>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"temp\": 21}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>",
    "<think></think></think><think><think>",
    "a<｜User｜>b<｜Assistant｜>c<|EOT|>d<｜end▁of▁sentence｜>e",
]

LONG = [
    "a" * 300,
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "=" * 120 + "\n" + "-" * 80 + "\n" + "*" * 40,
    " " * 200 + "x",
    "\n" * 50,
    "SGVsbG8gV29ybGQhIFRoaXMgaXMgYSBiYXNlNjQgZW5jb2RlZCBzdHJpbmcgd2l0aCBzb21lIGxlbmd0aC4=",
    "0123456789abcdef" * 16,
    "!!!???...,,,;;;:::'''\"\"\"(((())))[[[]]]{{{}}}<<<>>>///\\\\\\|||___---+++***&&&^^^%%%$$$###@@@~~~```",
    "ab" * 150,
    "日本" * 100,
    "😀" * 60,
]

TRICKY = (
    list("aZé ß\tx\n\r.,!?'\"-_/\\@#$%^&*()[]{}<>|`~;:0159")
    + ["\u00a0", "\u3000", "\u2028", "\u0085", "\x0b", "\x00", "\x1f", "\x7f", "\u200b", "\u200d", "\ufeff"]
    + ["\u0301", "\u0308", "\u20e3", "\ufe0f", "\u3099", "\u309a", "\u309b", "\u30fb", "\u30a0", "\u30fc", "\u309f"]
    + ["²", "½", "٣", "३", "３", "Ⅻ", "〇", "①"]
    + ["日", "本", "語", "龥", "龦", "㐀", "あ", "ア", "ｱ", "한", "글", "ㄱ"]
    + ["é", "Ж", "ω", "ا", "ש", "क", "ि", "ก", "ั", "ǅ", "ʰ", "ª"]
    + ["😀", "👍", "🏽", "🇺", "🇸", "❤", "€", "£", "¥", "©", "°", "±", "×", "÷", "∑", "→", "—", "–", "…", "«", "»", "「", "」", "、", "。", "！", "？", "（", "）"]
    + ["\ue000", "\u0378", "\ufffd", "\U0001d400", "\U00020000", "\U0001fae8", "\U00011b60"]
    + ["<｜User｜>", "<think>", "</think>", "<｜end▁of▁sentence｜>", "<|EOT|>", "<", "｜", "▁"]
)

GROUPS = [PROSE, CODE, CJK, EMOJI, SCRIPTS, DIGITS, WHITESPACE, CONTROL, SPECIAL, LONG]


def fuzz(rng):
    """A random string of tricky characters, some runs repeated."""
    parts = []
    for _ in range(rng.randint(1, 40)):
        piece = rng.choice(TRICKY)
        parts.append(piece * (rng.randint(2, 5) if rng.random() < 0.15 else 1))
    return "".join(parts)


def sample(rng):
    """One corpus text: a single sample, a mix of samples, or a fuzz string."""
    kind = rng.random()
    if kind < 0.25:
        return fuzz(rng)
    if kind < 0.6:
        return rng.choice(rng.choice(GROUPS))
    joiners = ["", " ", "\n", "\n\n", "\t", "\r\n", "  "]
    return rng.choice(joiners).join(rng.choice(rng.choice(GROUPS)) for _ in range(rng.randint(2, 6)))


def texts(size, seed):
    """Every hand-written sample once, then generated texts until `size` UTF-8 bytes."""
    rng = random.Random(seed)
    result = [text for group in GROUPS for text in group] + TRICKY
    total = sum(len(t.encode()) for t in result)
    while total < size:
        text = sample(rng)
        result.append(text)
        total += len(text.encode())
    return result


def byte_spellings():
    """GPT-2's byte-level spelling of each byte: printable Latin-1 as itself, the rest from U+0100."""
    printable = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    others = [b for b in range(256) if b not in printable]
    spelling = {b: chr(b) for b in printable} | {b: chr(256 + i) for i, b in enumerate(others)}
    return [spelling[b] for b in range(256)]


def decode_cases(tokenizer, count, seed):
    """Random id sequences: single-byte tokens (often invalid UTF-8 together), any ids, added tokens."""
    rng = random.Random(seed)
    byte_ids = [tokenizer.token_to_id(c) for c in byte_spellings()]
    assert None not in byte_ids
    vocab_size = tokenizer.get_vocab_size()
    added = [tokenizer.token_to_id(t) for t in ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<think>"]]
    cases = []
    for _ in range(count):
        ids = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            ids.append(rng.choice(byte_ids) if kind < 0.5 else rng.choice(added) if kind < 0.6 else rng.randrange(vocab_size))
        cases.append({"ids": ids, "text": tokenizer.decode(ids, skip_special_tokens=False),
                      "text_skip_special": tokenizer.decode(ids, skip_special_tokens=True)})
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=50_000, help="UTF-8 bytes of text to generate")
    parser.add_argument("--seed", type=int, default=20250929)
    parser.add_argument("--tokenizer", type=Path, default=TOKENIZER)
    parser.add_argument("--output", type=Path, default=RESOURCES / "corpus.jsonl")
    parser.add_argument("--decode-output", default=str(RESOURCES / "decode.jsonl"), help='"" to skip')
    args = parser.parse_args()

    tokenizer = Tokenizer.from_file(str(args.tokenizer))
    spec = json.loads(args.tokenizer.read_text(encoding="utf-8"))
    spec["added_tokens"] = []
    plain = Tokenizer.from_str(json.dumps(spec))

    lines = texts(args.size, args.seed)
    with args.output.open("w", encoding="utf-8") as out:
        for text in lines:
            ids = tokenizer.encode(text).ids
            assert tokenizer.decode(ids, skip_special_tokens=False) == text, f"tokenizers does not round-trip {text!r}"
            record = {"text": text, "ids": ids}
            plain_ids = plain.encode(text).ids
            if plain_ids != ids:
                record["plain_ids"] = plain_ids
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    text_bytes = sum(len(t.encode()) for t in lines)
    print(f"{args.output}: {len(lines)} lines, {text_bytes} text bytes, {args.output.stat().st_size} bytes")
    if args.decode_output:
        cases = decode_cases(tokenizer, 300, args.seed)
        Path(args.decode_output).write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        print(f"{args.decode_output}: {len(cases)} id sequences")


if __name__ == "__main__":
    main()
