using System.Text.Json;
using System.Text.Json.Nodes;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// A validated invocation: Data and Metadata are objects and the trigger's binding is present. Inputs
/// may arrive as JSON, or as a JSON string holding JSON once or twice over (the host encodes string
/// inputs again; docs and host code disagree), so <see cref="Input"/> unwraps up to two layers.
/// </summary>
public sealed class HostInvocation
{
    private HostInvocation(string functionName, JsonObject data, JsonObject metadata, string? invocationId)
    {
        FunctionName = functionName;
        Data = data;
        Metadata = metadata;
        InvocationId = invocationId;
    }

    public string FunctionName { get; }

    public JsonObject Data { get; }

    public JsonObject Metadata { get; }

    public string? InvocationId { get; }

    public static HostInvocation Validate(string functionName, string triggerBinding, HostInvocationRequest request, string? invocationId)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Data is not JsonObject data)
        {
            errors["Data"] = [request.Data is null ? "Data is required (an object of trigger and input values)." : "Data must be a JSON object."];
            data = [];
        }
        else if (!data.ContainsKey(triggerBinding))
        {
            errors[$"Data.{triggerBinding}"] = [$"The trigger binding '{triggerBinding}' is missing from Data."];
        }

        if (request.Metadata is not JsonObject metadata)
        {
            errors["Metadata"] = [request.Metadata is null ? "Metadata is required (an object, possibly empty)." : "Metadata must be a JSON object."];
            metadata = [];
        }

        return errors.Count > 0
            ? throw ProblemException.Validation(errors)
            : new HostInvocation(functionName, data, metadata, invocationId);
    }

    /// <summary>A binding's value as JSON, with up to two layers of string encoding removed.</summary>
    public JsonNode? Input(string binding)
    {
        var node = Data[binding];
        for (var layer = 0; layer < 2 && node is JsonValue value && value.TryGetValue<string>(out var text); layer++)
        {
            var trimmed = text.TrimStart();
            if (trimmed.Length == 0 || (trimmed[0] is not ('{' or '[' or '"')))
            {
                break;
            }

            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                break; // a plain string that merely starts like JSON: keep it as the string it is
            }
        }

        return node;
    }
}
