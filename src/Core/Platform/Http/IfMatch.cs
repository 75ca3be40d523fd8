using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// An <c>If-Match</c> precondition over a row version, whose ETag is <c>"&lt;version&gt;"</c>. No header
/// means no precondition (last write wins); <c>*</c> matches any existing row. Weak tags compare by
/// their opaque value, which is enough for versions.
/// </summary>
public sealed class IfMatch
{
    private readonly string[]? _tags;

    private IfMatch(string[]? tags) => _tags = tags;

    public static IfMatch None { get; } = new(null);

    public static IfMatch Parse(string? header) =>
        string.IsNullOrWhiteSpace(header) ? None : new([.. header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.StartsWith("W/", StringComparison.Ordinal) ? t[2..] : t)]);

    public static string ETag(int version) => $"\"{version}\"";

    /// <exception cref="ProblemException">412 when a precondition was given and the current version is not in it.</exception>
    public void Check(int currentVersion)
    {
        if (_tags is null || _tags.Contains("*", StringComparer.Ordinal) || _tags.Contains(ETag(currentVersion), StringComparer.Ordinal))
        {
            return;
        }

        throw new ProblemException(ProblemTypes.PreconditionFailed,
            $"If-Match does not match the current version; its ETag is now {ETag(currentVersion)}. Read it again and retry.");
    }
}
