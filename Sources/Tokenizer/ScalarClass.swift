/// The character classes DeepSeek's pre-tokenizer patterns test, one bit each, with the Unicode
/// data of the reference regex engine (Oniguruma in `tokenizers`, Unicode 16.0).
struct ScalarClass: OptionSet {
    let rawValue: UInt16

    /// `\p{L}`
    static let letter = ScalarClass(rawValue: 1 << 0)
    /// `\p{M}`
    static let mark = ScalarClass(rawValue: 1 << 1)
    /// `\p{N}`
    static let number = ScalarClass(rawValue: 1 << 2)
    /// `\p{P}`
    static let punctuation = ScalarClass(rawValue: 1 << 3)
    /// `\p{S}`
    static let symbol = ScalarClass(rawValue: 1 << 4)
    /// `\s`: the Unicode White_Space property.
    static let whitespace = ScalarClass(rawValue: 1 << 5)
    /// `[\r\n]`
    static let newline = ScalarClass(rawValue: 1 << 6)
    /// U+0020, the optional leading space of ` ?[\p{P}\p{S}]+`.
    static let space = ScalarClass(rawValue: 1 << 7)
    /// ``[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]``
    static let asciiPunctuation = ScalarClass(rawValue: 1 << 8)
    /// `[A-Za-z]`
    static let asciiLetter = ScalarClass(rawValue: 1 << 9)
    /// `[一-龥぀-ゟ゠-ヿ]`: CJK ideographs U+4E00–U+9FA5, hiragana and katakana.
    static let cjk = ScalarClass(rawValue: 1 << 10)

    /// `[\p{L}\p{M}]`
    static let letterOrMark: ScalarClass = [.letter, .mark]
    /// `[\p{P}\p{S}]`
    static let punctuationOrSymbol: ScalarClass = [.punctuation, .symbol]
    /// The complement of `[^\r\n\p{L}\p{P}\p{S}]`.
    static let notWordPrefix: ScalarClass = [.newline, .letter, .punctuation, .symbol]

    /// Whether the scalar is in any of the classes of `other`.
    @inline(__always)
    func isAny(of other: ScalarClass) -> Bool { rawValue & other.rawValue != 0 }

    /// Scalars first assigned after this Unicode version are unassigned to the reference engine.
    static let unicodeVersion = (major: 16, minor: 0)

    /// The classes of every scalar of the Basic Multilingual Plane, by value.
    static let basicPlane: [ScalarClass] = (0..<0x10000).map { of(UInt32($0)) }

    /// The classes of the scalar with value `value`, computed from the Unicode data.
    static func of(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        var result: ScalarClass = []
        let properties = scalar.properties
        if properties.isWhitespace { result.insert(.whitespace) }
        if value == 0x0A || value == 0x0D { result.insert(.newline) }
        if value == 0x20 { result.insert(.space) }
        if (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value) || (0x5B...0x60).contains(value)
            || (0x7B...0x7E).contains(value) {
            result.insert(.asciiPunctuation)
        }
        if (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) { result.insert(.asciiLetter) }
        if (0x4E00...0x9FA5).contains(value) || (0x3040...0x30FF).contains(value) { result.insert(.cjk) }
        guard let age = properties.age, (age.major, age.minor) <= unicodeVersion else { return result }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert(.mark)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result.insert(.symbol)
        default:
            break
        }
        return result
    }
}
