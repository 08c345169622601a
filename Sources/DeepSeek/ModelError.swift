/// A problem with the model, its files or the request, phrased for the user: what is wrong,
/// where (file, tensor, field) and what was expected.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
