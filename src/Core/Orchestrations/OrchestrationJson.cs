using System.Text.Json;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;

namespace AgentCrm.Core.Orchestrations;

/// <summary>From the engine's stored JSON text to the API's shapes.</summary>
internal static class OrchestrationJson
{
    public static OrchestrationState State(OrchestrationMetadata m, bool showInput, IReadOnlyList<HistoryEvent>? history, bool showHistoryOutput) => new(
        m.Name, m.InstanceId, m.Version, m.Status.ToString(), showInput ? Element(m.Input) : null, Element(m.CustomStatus),
        m.Status == OrchestrationStatus.Failed ? null : Element(m.Output),
        m.Failure is { } f ? new OrchestrationFailure(f.ErrorType, f.ErrorMessage) : null,
        m.CreatedAt, m.UpdatedAt, m.CompletedAt, m.ParentInstanceId,
        history?.Select(e => new OrchestrationHistoryEvent(e.Kind.ToString(), e.Timestamp, e.TaskId >= 0 ? e.TaskId : null, e.Name,
            showHistoryOutput ? Element(e.Payload) : null)).ToList());

    /// <summary>Stored payloads are JSON the engine wrote; anything else is returned as a JSON string rather than failing the read.</summary>
    public static JsonElement? Element(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json, DurableJson.Options);
        }
    }
}
