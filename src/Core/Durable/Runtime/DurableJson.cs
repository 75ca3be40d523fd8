using System.Text.Json;

namespace AgentCrm.Core.Durable.Runtime;

/// <summary>How inputs, outputs and payloads are stored: JSON text with web defaults.</summary>
public static class DurableJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string? Serialize(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    public static T? Deserialize<T>(string? json) => json is null ? default : JsonSerializer.Deserialize<T>(json, Options);
}
