/// Checks that a tokenizer.json asks only for what this module implements.
extension TokenizerFile {
    /// Throws `TokenizerError.unsupported` naming the first feature outside DeepSeek-V3's setup.
    func validate(path: String) throws {
        func unsupported(_ feature: String) -> TokenizerError { .unsupported(path: path, feature: feature) }
        guard model.type == "BPE" else { throw unsupported("model type \"\(model.type)\"") }
        if let dropout = model.dropout, dropout != 0 { throw unsupported("BPE dropout \(dropout)") }
        if model.byteFallback == true { throw unsupported("BPE byte_fallback") }
        if let prefix = model.continuingSubwordPrefix, !prefix.isEmpty { throw unsupported("continuing_subword_prefix") }
        if let suffix = model.endOfWordSuffix, !suffix.isEmpty { throw unsupported("end_of_word_suffix") }
        if let normalizer, normalizer.type != "Sequence" || !(normalizer.normalizers ?? []).isEmpty {
            throw unsupported("normalizer \(normalizer.summary)")
        }
        guard let preTokenizer, preTokenizer.type == "Sequence", let steps = preTokenizer.pretokenizers,
              steps.count == PreTokenizer.patterns.count + 1,
              zip(steps, PreTokenizer.patterns).allSatisfy({ $0.isIsolatedSplit(regex: $1) }),
              let last = steps.last, last.type == "ByteLevel", last.addPrefixSpace == false, last.useRegex == false
        else {
            throw unsupported("pre_tokenizer \(preTokenizer?.summary ?? "null") (the built-in one is DeepSeek-V3's three Splits + ByteLevel)")
        }
        if let postProcessor, postProcessor.type != "ByteLevel" { throw unsupported("post_processor \(postProcessor.summary)") }
        guard let decoder, decoder.type == "ByteLevel" else { throw unsupported("decoder \(decoder?.summary ?? "null")") }
        for token in addedTokens where token.singleWord == true || token.lstrip == true || token.rstrip == true {
            throw unsupported("added token \"\(token.content)\" with single_word, lstrip or rstrip")
        }
    }
}

extension TokenizerFile.Component {
    /// `Split` on regular expression `regex` with behaviour Isolated, not inverted.
    fileprivate func isIsolatedSplit(regex: String) -> Bool {
        type == "Split" && pattern == TokenizerFile.Pattern(regex: regex, string: nil) && behavior == "Isolated" && invert != true
    }

    /// The component's type with its sub-components or pattern, for error messages.
    fileprivate var summary: String {
        let parts = (normalizers ?? pretokenizers)?.map(\.summary)
        if let parts { return "\(type)[\(parts.joined(separator: ", "))]" }
        if let pattern { return "\(type)(\(pattern.regex ?? pattern.string ?? ""))" }
        return type
    }
}
