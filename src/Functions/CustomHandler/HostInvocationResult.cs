using System.Text.Json.Serialization;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// The answer the host expects: application/json with Outputs, Logs and ReturnValue. Logs appear in
/// the invocation's log in Application Insights. A result with <see cref="FailureDetail"/> is answered
/// as a 500 problem instead, which fails the invocation.
/// </summary>
public sealed record HostInvocationResult(
    [property: JsonPropertyName("Outputs")] IReadOnlyDictionary<string, object?> Outputs,
    [property: JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
    [property: JsonPropertyName("ReturnValue")] object? ReturnValue)
{
    [JsonIgnore]
    public string? FailureDetail { get; init; }

    [JsonIgnore]
    public bool Failed => FailureDetail is not null;

    public static HostInvocationResult Succeeded(IReadOnlyList<string> logs) => new(new Dictionary<string, object?>(), logs, null);

    public static HostInvocationResult Failure(string detail, IReadOnlyList<string> logs) =>
        new(new Dictionary<string, object?>(), logs, null) { FailureDetail = detail };
}
