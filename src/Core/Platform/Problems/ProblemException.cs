namespace AgentCrm.Core.Platform.Problems;

/// <summary>
/// An expected failure that Core raises and the one exception handler turns into a problem response.
/// <see cref="Errors"/> carries per-field messages for validation problems.
/// </summary>
public sealed class ProblemException : Exception
{
    public ProblemException(ProblemType type, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
        : base(detail)
    {
        Type = type;
        Errors = errors;
    }

    public ProblemException() : this(ProblemTypes.BadRequest, "The request is not valid.") { }

    public ProblemException(string message) : this(ProblemTypes.BadRequest, message) { }

    public ProblemException(string message, Exception innerException) : base(message, innerException) => Type = ProblemTypes.BadRequest;

    public ProblemType Type { get; }

    public IReadOnlyDictionary<string, string[]>? Errors { get; }

    /// <summary>Sent as Retry-After (whole seconds, rounded up) when set.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Sent as Location when set: where the thing the problem is about lives (the existing instance of a 409, say).</summary>
    public string? Location { get; init; }

    /// <summary>Extension members of the problem (RFC 9457 §3.2): facts a client can act on, e.g. a quota's limit.</summary>
    public IReadOnlyDictionary<string, object?>? Extensions { get; init; }

    public static ProblemException Validation(IReadOnlyDictionary<string, string[]> errors) =>
        new(ProblemTypes.Validation, "See errors for the fields to fix.", errors);
}
