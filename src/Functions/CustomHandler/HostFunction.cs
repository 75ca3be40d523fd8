using System.Text.Json.Nodes;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>A non-HTTP function the Functions host invokes with POST /{Name}.</summary>
public abstract class HostFunction
{
    public abstract Task<HostInvocationResult> InvokeAsync(HostInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>
/// What the host needs to know about a function: its name, trigger binding and the function.json
/// "bindings" array. Static data, so function.json can be generated without a database or settings.
/// </summary>
public sealed record HostFunctionDefinition(string Name, string TriggerBinding, JsonArray Bindings, Type HandlerType);
