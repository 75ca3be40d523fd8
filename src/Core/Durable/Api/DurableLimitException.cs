namespace AgentCrm.Core.Durable.Api;

/// <summary>
/// A durable limit refused something (a payload, the history's size, its number of events). Thrown at the call
/// site in orchestrator code, so it can be caught there; uncaught, the instance fails with
/// <see cref="ErrorType"/> as its failure's error type rather than a .NET type name.
/// </summary>
public sealed class DurableLimitException : Exception
{
    public const string PayloadTooLarge = "PayloadTooLarge";
    public const string HistoryLimitExceeded = "HistoryLimitExceeded";
    public const string ActionLimitExceeded = "ActionLimitExceeded";

    public DurableLimitException(string errorType, string message) : base(message) => ErrorType = errorType;

    public DurableLimitException() : this(PayloadTooLarge, "A durable limit was exceeded.") { }

    public DurableLimitException(string message) : this(PayloadTooLarge, message) { }

    public DurableLimitException(string message, Exception innerException) : base(message, innerException) => ErrorType = PayloadTooLarge;

    public string ErrorType { get; }
}
