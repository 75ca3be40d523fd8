using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// What the Functions host posts to /{FunctionName} for a non-HTTP trigger. Fields the host may add in
/// later versions are ignored here (unlike API bodies, where unknown fields are refused).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed class HostInvocationRequest
{
    [JsonPropertyName("Data")]
    public JsonNode? Data { get; init; }

    [JsonPropertyName("Metadata")]
    public JsonNode? Metadata { get; init; }
}
